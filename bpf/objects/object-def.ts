// What the bpf backend knows about one compiled object: which program serves
// a kind on this kernel, the object's own part of the configuration, and how
// its records (or its counting maps) turn into Events.
import type { KindPlan, RunRequest } from '../../lib/backend.js'
import type { Event, KindRequest } from '../../lib/events.js'
import type { DropReasons } from '../../lib/kernel/drop-reasons.js'
import type { Kallsyms } from '../../lib/kernel/kallsyms.js'
import type { SocketOwner } from '../../lib/kernel/socket-owners.js'
import type { RodataLayout } from '../event-abi.js'
import type { KernelFeatures } from '../kernel-features.js'
import type { LoadedObject } from '../loaded-object.js'

export interface BpfKindPlan extends KindPlan {
  /** Programs of the object that serve this kind. */
  programs: string[]
  /** Of `programs`, the standbys: they emit only the events the kernel skipped
   *  their primary for (bpf/include/nest.bpf.h), so their own misses lose nothing. */
  standby?: string[]
}

/** What decoding needs from the run: symbols, reason names, socket owners. */
export interface DecodeEnv {
  kallsyms: () => Kallsyms | null
  /** `sym+0xoff` of a kernel address (cached: few distinct addresses, many events). */
  symbolize: (addr: bigint) => string
  dropReasons: () => DropReasons
  socketOwner: (inode: number) => SocketOwner | null
  /** Reads the socket owners' table now, not at the first event that needs it. */
  warmOwners: () => void
  /** The kernel's kfree_skb has a reason (5.17+). */
  hasReason: boolean
}

/** Writes the object's own part of .rodata at `at` (the common filters are the backend's). */
export type ToolConfigWriter = (dv: DataView, at: number) => void

export interface BpfObjectDef {
  /** File name of the compiled object next to this package's bpf/ sources. */
  file: string
  allPrograms: readonly string[]
  /** Where the common and the object's own configuration sit in its .rodata. */
  rodata: RodataLayout
  /** How this object serves one kind on this kernel (or why it cannot). */
  plan(request: KindRequest, features: KernelFeatures, run: RunRequest): BpfKindPlan
  /** The object's own configuration for the kinds it serves in this run. */
  config(requests: readonly KindRequest[], features: KernelFeatures): ToolConfigWriter
  /** Turns one ring-buffer record into an Event (null: not for this run). */
  decoder(requests: readonly KindRequest[], env: DecodeEnv): (dv: DataView) => Event | null
  /** Objects that count in the kernel: no ring buffer; sample() emits the increments. */
  aggregates?: boolean
  sample?(obj: LoadedObject, env: DecodeEnv, previous: Map<string, number>): Event[]
  /** Text of a `suppressed` map key for the per-second report. */
  suppressedLabel(reason: number, location: bigint, env: DecodeEnv): string
  /** Start-up work done right after attaching rather than at the first event. */
  warm?(requests: readonly KindRequest[], env: DecodeEnv): void
}

export function unusableBpfPlan(kind: KindRequest['kind'], reason: string): BpfKindPlan {
  return { kind, usable: false, reason, hookType: null, hook: null, fields: [], filters: {}, cannotSee: [], programs: [] }
}

/** The program of a kfree_skb-based object for this kernel's prototype:
 *  2 arguments, 3 (reason, 5.17+) or 4 (rx_sk, 6.11+), read from BTF. */
export function kfreeSkbProgram(features: KernelFeatures, prefix: string): { program: string; args: number } | null {
  const args = features.tracepointArgs('kfree_skb')
  if (args === null || args < 2) return null
  return { program: `${prefix}${Math.min(args, 4)}`, args }
}

/** A usable plan on skb:kfree_skb (both kfree_skb-based objects hook it the same way). */
export function kfreeSkbPlan(kind: KindRequest['kind'], rest: Pick<BpfKindPlan, 'fields' | 'filters' | 'cannotSee' | 'reasons' | 'programs'>): BpfKindPlan {
  return { kind, usable: true, reason: null, hookType: 'tracepoint', hook: 'tracepoint skb:kfree_skb', ...rest }
}

/** The programs of kfreeSkbProgram(), for allPrograms. */
export function kfreeSkbPrograms(prefix: string): string[] {
  return [2, 3, 4].map((n) => `${prefix}${n}`)
}
