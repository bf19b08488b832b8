// What the bpf backend knows about one compiled object: the event kinds it
// serves, which program serves a kind on this kernel, and how its records
// decode into Events.
import type { KindPlan, RunRequest } from '../../lib/backend.js'
import type { Event, EventKind } from '../../lib/events.js'
import type { DropReasons } from '../../lib/kernel/drop-reasons.js'
import type { Kallsyms } from '../../lib/kernel/kallsyms.js'
import type { SocketOwner } from '../../lib/kernel/socket-owners.js'
import type { KernelFeatures } from '../kernel-features.js'
import type { LoadedObject } from '../loaded-object.js'

export interface BpfKindPlan extends KindPlan {
  /** Programs of the object that serve this kind. */
  programs: string[]
}

export interface DecodeEnv {
  req: RunRequest
  kallsyms: () => Kallsyms | null
  /** `sym+0xoff` of a kernel address (cached: few distinct addresses, many events). */
  symbolize: (addr: bigint) => string
  dropReasons: () => DropReasons
  socketOwner: (inode: number) => SocketOwner | null
  /** The kernel's kfree_skb has a reason (5.17+). */
  hasReason: boolean
}

export interface BpfObjectDef {
  /** File name of the compiled object next to this package's bpf/ sources. */
  file: string
  kinds: readonly EventKind[]
  allPrograms: readonly string[]
  plan(kind: EventKind, features: KernelFeatures, req: RunRequest): BpfKindPlan
  decode(dv: DataView, env: DecodeEnv): Event | null
  /** Objects that count in the kernel: no ring buffer; sample() emits the increments. */
  aggregates?: boolean
  sample?(obj: LoadedObject, env: DecodeEnv, previous: Map<string, number>): Event[]
  /** Text of a `suppressed` map key for the per-second report. */
  suppressedLabel(reason: number, location: bigint, env: DecodeEnv): string
}

export function unusablePlan(kind: EventKind, reason: string): BpfKindPlan {
  return { kind, usable: false, reason, hookType: null, hook: null, fields: [], filters: {}, cannotSee: [], programs: [] }
}
