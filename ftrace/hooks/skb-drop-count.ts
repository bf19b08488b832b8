// skb:kfree_skb as the ftrace hook for dropwatch ('skb-drop-count'): one
// event (count 1) per trace line. How `location` can be read is learned from
// the format file (SPEC §6): `%pS` (newer kernels) is parsed as printed; `%p`
// is hashed where the instance has `hash-ptr` (5.12+), so the option is turned
// off and the raw address symbolized with /proc/kallsyms, as on older kernels
// that print raw pointers anyway. Reasons come from the event text; their
// numbers from the running kernel (BTF, else the format's table).
import { existsSync } from 'node:fs'
import type { RunRequest } from '../../lib/backend.js'
import type { SkbDropCountEvent } from '../../lib/events.js'
import { familyOfProtocol, protocolOfFamily } from '../../lib/kernel/eth-protocol.js'
import type { FilterName, FilterPlace } from '../../lib/filters.js'
import { DropReasons } from '../../lib/kernel/drop-reasons.js'
import { addressText, Kallsyms } from '../../lib/kernel/kallsyms.js'
import { hasField, type EventFormat } from '../format.js'
import { histTrigger, histTriggersAvailable, type HistEntry } from '../hist-trigger.js'
import { findTracefs } from '../tracefs.js'
import type { TracepointHook, TracepointRun } from './hook.js'


/** How this kernel prints `location`. */
export type LocationMode =
  | 'symbolic' // %pS: `sym+0xoff/0xsize [mod]`
  | 'hashed' // %p with hash-ptr: turned off in the instance, then raw
  | 'raw' // %p without hash-ptr (before 5.12): raw pointers

/** What one run of the hook knows about this kernel, built once by plan(). */
export interface KfreeSkbContext {
  mode: LocationMode
  /** Counted by a hist trigger (exact at any rate) instead of from trace_pipe. */
  hist: boolean
  hasReason: boolean
  reasons: DropReasons
  /** Loaded on first use (reading /proc/kallsyms costs ~60 ms of kernel time, and
   *  a kernel that prints %pS needs it only for addresses); null when unreadable. */
  kallsyms(): Kallsyms | null
  /** Codes of --reason names (kernel filter). */
  reasonCodes: number[]
  /** The reason when --reason names exactly one (fills an empty reason text). */
  onlyReason: string | null
  /** location text → symbolized location and address; few distinct keys. */
  cache: Map<string, { location: string; address: string | null }>
}

export function locationMode(format: EventFormat, hashPtrOption: boolean): LocationMode {
  if (/location=%pS/.test(format.printFmt)) return 'symbolic'
  return hashPtrOption ? 'hashed' : 'raw'
}

function hashPtrOptionExists(): boolean {
  const root = findTracefs()
  return root !== null && existsSync(`${root}/options/hash-ptr`)
}

/** Hist triggers for kfree_skb; NETDROP_FTRACE_HIST=0 counts from trace_pipe instead (tests compare both). */
function histTriggersUsable(): boolean {
  const root = findTracefs()
  return root !== null && process.env.NETDROP_FTRACE_HIST !== '0' && histTriggersAvailable(root, 'skb', 'kfree_skb')
}

export function buildContext(
  format: EventFormat,
  wantedReasons: readonly string[],
  env: { hashPtrOption: boolean; kallsyms: () => Kallsyms | null; btfPath?: string; histTriggers?: boolean },
): KfreeSkbContext {
  const mode = locationMode(format, env.hashPtrOption)
  const hasReason = hasField(format, 'reason')
  const reasons = hasReason ? DropReasons.load({ btfPath: env.btfPath, symbolic: format.symbolic.get('reason') ?? null }) : new DropReasons(new Map(), 'none')
  const reasonCodes: number[] = []
  for (const name of wantedReasons) {
    const code = reasons.code(name)
    if (code !== null) reasonCodes.push(code)
  }
  const only = wantedReasons.length === 1 && reasonCodes.length === 1 ? reasons.name(reasonCodes[0] ?? 0) : null
  let loaded: Kallsyms | null | undefined
  const kallsyms = () => (loaded === undefined ? (loaded = env.kallsyms()) : loaded)
  return { mode, hist: env.histTriggers ?? false, hasReason, reasons, kallsyms, reasonCodes, onlyReason: only, cache: new Map() }
}

function loadKallsyms(): Kallsyms | null {
  try {
    return Kallsyms.load()
  } catch {
    return null
  }
}

/** Describes, for --list-backends and the banner, where locations come from. */
export function locationSource(ctx: KfreeSkbContext): string {
  if (ctx.hist) return 'location:hist(.sym-offset)'
  switch (ctx.mode) {
    case 'symbolic':
      return 'location:%pS'
    case 'hashed':
      return 'location:kallsyms(hash-ptr=off)'
    case 'raw':
      return 'location:kallsyms(raw %p)'
  }
}

export const skbDropCount: TracepointHook<'skb-drop-count'> = {
  system: 'skb',
  event: 'kfree_skb',
  plan(fmt, _request, run) {
    const ctx = buildContext(fmt, run.filters.reasons, { hashPtrOption: hashPtrOptionExists(), kallsyms: loadKallsyms, histTriggers: histTriggersUsable() })
    const filters: Partial<Record<FilterName, FilterPlace>> = {
      family: 'kernel',
      reason: ctx.hasReason ? 'kernel' : 'none',
      port: 'none',
      addr: 'none',
      netns: 'none',
    }
    const fields = [locationSource(ctx), 'address', 'protocol', 'family']
    if (ctx.hasReason) fields.push('reason')
    const reason = hasField(fmt, 'location') && hasField(fmt, 'protocol') ? null : 'skb:kfree_skb has no location/protocol field'
    return {
      info: { usable: reason === null, reason, fields, filters, cannotSee: cannotSee(ctx), reasons: () => ctx.reasons },
      open: () => openRun(ctx, kernelFilter(ctx, run)),
    }
  },
}

function cannotSee(ctx: KfreeSkbContext): string[] {
  const out = ['network namespace (--netns)', 'device (--by dev)']
  if (!ctx.hasReason) out.push('drop reasons: no reason field, so every kfree_skb() counts, including some that are not drops')
  if (ctx.mode !== 'symbolic' && !ctx.hist && (ctx.kallsyms()?.hidden ?? true)) {
    out.push('symbol names: /proc/kallsyms addresses are hidden (kptr_restrict or no CAP_SYSLOG); raw addresses printed')
  }
  if (ctx.mode === 'hashed' && ctx.hasReason && !ctx.hist) {
    out.push('some reasons: with hash-ptr off some kernels (seen on 6.1) print the first symbolic field empty; those drops show reason -')
  }
  return out
}

export function kernelFilter(ctx: KfreeSkbContext, run: RunRequest): string {
  const parts: string[] = []
  if (run.filters.family !== null) parts.push(`protocol == ${protocolOfFamily(run.filters.family)}`)
  if (ctx.hasReason && ctx.reasonCodes.length > 0) parts.push('(' + ctx.reasonCodes.map((c) => `reason == ${c}`).join(' || ') + ')')
  return parts.join(' && ')
}

function openRun(ctx: KfreeSkbContext, filter: string): TracepointRun {
  // .sym-offset prints the raw address and its symbol, whatever hash-ptr says.
  const keys = ['location.sym-offset', 'protocol', ...(ctx.hasReason ? ['reason'] : [])]
  return {
    kernelFilter: filter,
    // Raw pointers in the text, so they can be symbolized with kallsyms.
    instanceOptions: ctx.mode === 'hashed' && !ctx.hist ? { 'hash-ptr': false } : {},
    counting: ctx.hist ? { trigger: histTrigger(keys, HIST_SIZE, filter), decode: (entry, count) => decodeHistEntry(entry, count, ctx) } : undefined,
    decode: (line) => decodeKfreeSkb(line.body, ctx),
    warm() {
      // Only what decoding will need: hist entries carry their symbols; raw
      // pointers need the table; %pS text needs its by-name index for addresses.
      if (ctx.hist) return
      const kallsyms = ctx.kallsyms()
      if (ctx.mode === 'symbolic') kallsyms?.address('kfree_skb')
    },
  }
}

/** Entries of the hist table: distinct (location, protocol, reason) keys; a
 *  full table drops new keys (counted as lost), so leave room. */
const HIST_SIZE = 8192

// `[ffffffff818ac491] tcp_v4_rcv+0x81/0xee0[ [mod]]` (a raw 0x… when no symbol covers it)
const HIST_LOCATION_RE = /^\[([0-9a-f]+)\]\s+(\S+(?: \[[^\]]+\])?)/

/** One hist entry's growth → a count event; its reason is a number there. */
export function decodeHistEntry(entry: HistEntry, count: number, ctx: KfreeSkbContext): SkbDropCountEvent | null {
  const loc = HIST_LOCATION_RE.exec(entry.keys.get('location') ?? '')
  const protocol = Number(entry.keys.get('protocol'))
  if (!loc || !Number.isInteger(protocol)) return null
  const addr = BigInt(`0x${loc[1]}`)
  const sym = SYMBOLIC_RE.exec(loc[2] ?? '')
  const location = sym ? `${sym[1]}+0x${sym[2]}${sym[3] ? ` [${sym[3]}]` : ''}` : (ctx.kallsyms()?.symbolize(addr) ?? addressText(addr))
  const code = ctx.hasReason ? Number(entry.keys.get('reason')) : NaN
  const family = familyOfProtocol(protocol)
  return {
    kind: 'skb-drop-count',
    location,
    address: addressText(addr),
    reason: Number.isInteger(code) ? ctx.reasons.name(code) : null,
    reasonCode: Number.isInteger(code) ? code : null,
    protocol,
    family,
    netns: null,
    ifindex: null,
    dev: null,
    count,
  }
}

// `… protocol=N location=LOC[ [mod]][ reason: NAME]`; the location may hold a space before `[module]`.
const BODY_RE = /\bprotocol=(\d+) location=(\S+(?: \[[^\]]+\])?)(?: reason: ?(\S*))?\s*$/
const SYMBOLIC_RE = /^([^\s+]+)\+0x([0-9a-f]+)(?:\/0x[0-9a-f]+)?(?: \[([^\]]+)\])?$/
const POINTER_RE = /^(?:0x)?([0-9a-f]{1,16})$/

export function decodeKfreeSkb(body: string, ctx: KfreeSkbContext): SkbDropCountEvent | null {
  const m = BODY_RE.exec(body)
  if (!m) return null
  const protocol = Number(m[1])
  const loc = resolveLocation(m[2] ?? '', ctx)
  let reason: string | null = null
  let reasonCode: number | null = null
  if (ctx.hasReason) {
    const text = m[3] ?? ''
    if (text === '') {
      reason = ctx.onlyReason
      reasonCode = reason === null ? null : ctx.reasons.code(reason)
    } else if (/^0x[0-9a-f]+$/i.test(text) || /^\d+$/.test(text)) {
      // __print_symbolic prints a value it cannot name as hex (e.g. subsystem reasons).
      reasonCode = ctx.reasons.code(text)
      reason = reasonCode === null ? text : ctx.reasons.name(reasonCode)
    } else {
      reason = text
      reasonCode = ctx.reasons.code(text)
    }
  }
  const family = familyOfProtocol(protocol)
  return {
    kind: 'skb-drop-count',
    location: loc.location,
    address: loc.address,
    reason,
    reasonCode,
    protocol,
    family,
    netns: null,
    ifindex: null,
    dev: null,
    count: 1,
  }
}

function resolveLocation(text: string, ctx: KfreeSkbContext): { location: string; address: string | null } {
  const cached = ctx.cache.get(text)
  if (cached) return cached
  let out: { location: string; address: string | null }
  const sym = SYMBOLIC_RE.exec(text)
  const ptr = sym ? null : POINTER_RE.exec(text)
  if (sym) {
    const [, name = '', off = '0', mod] = sym
    const location = mod ? `${name}+0x${off} [${mod}]` : `${name}+0x${off}`
    const base = ctx.kallsyms()?.address(name, mod ?? null) ?? null
    out = { location, address: base === null ? null : addressText(base + BigInt(`0x${off}`)) }
  } else if (ptr && ctx.mode !== 'symbolic') {
    const addr = BigInt(`0x${ptr[1]}`)
    out = { location: ctx.kallsyms()?.symbolize(addr) ?? addressText(addr), address: addressText(addr) }
  } else {
    // %pS of an address without a symbol prints the raw pointer; keep it as is.
    out = { location: text, address: ptr ? addressText(BigInt(`0x${ptr[1]}`)) : null }
  }
  ctx.cache.set(text, out)
  return out
}
