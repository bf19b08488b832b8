// The user's filters (SPEC §3) and the user-space half of applying them.
// Backends say per filter whether they apply it in the kernel, in user space
// or not at all; whatever is not done in the kernel is done here, so a filter
// is never silently ignored.
import type { Event, Family } from './events.js'

export interface Filters {
  family: Family | null
  ports: number[]
  /** Canonical address text (see lib/kernel/inet-addr.ts). */
  addrs: string[]
  /** Network namespace inode number. */
  netns: number | null
  /** Drop-reason names without the SKB_DROP_REASON_ prefix. */
  reasons: string[]
}

export type FilterName = 'family' | 'port' | 'addr' | 'netns' | 'reason'
export type FilterPlace = 'kernel' | 'user' | 'none'

export const NO_FILTERS: Filters = { family: null, ports: [], addrs: [], netns: null, reasons: [] }

/** The filters the user actually asked for. */
export function requestedFilters(f: Filters): FilterName[] {
  const out: FilterName[] = []
  if (f.family !== null) out.push('family')
  if (f.ports.length > 0) out.push('port')
  if (f.addrs.length > 0) out.push('addr')
  if (f.netns !== null) out.push('netns')
  if (f.reasons.length > 0) out.push('reason')
  return out
}

export const FILTER_OPTION: Record<FilterName, string> = {
  family: '-4/-6',
  port: '--port',
  addr: '--addr',
  netns: '--netns',
  reason: '--reason',
}

/** A predicate for the filters a backend left to user space. Kernel-applied
 *  filters are re-checked only when cheap and exact (never wrong to repeat). */
export function userSpaceFilter(f: Filters, inUser: ReadonlySet<FilterName>): (e: Event) => boolean {
  const checks: Array<(e: Event) => boolean> = []
  if (inUser.has('family') && f.family !== null) {
    const fam = f.family
    checks.push((e) => e.family === fam)
  }
  if (inUser.has('port') && f.ports.length > 0) {
    const ports = new Set(f.ports)
    checks.push((e) => {
      const [a, b] = endpointsOf(e)
      return a !== null && (ports.has(a.port) || ports.has(b.port))
    })
  }
  if (inUser.has('addr') && f.addrs.length > 0) {
    const addrs = new Set(f.addrs)
    checks.push((e) => {
      const [a, b] = endpointsOf(e)
      return a !== null && (addrs.has(a.addr) || addrs.has(b.addr))
    })
  }
  if (inUser.has('netns') && f.netns !== null) {
    const ns = f.netns
    checks.push((e) => e.netns === ns)
  }
  if (inUser.has('reason') && f.reasons.length > 0) {
    const reasons = new Set(f.reasons)
    checks.push((e) => 'reason' in e && e.reason !== null && reasons.has(e.reason))
  }
  if (checks.length === 0) return () => true
  return (e) => checks.every((c) => c(e))
}

/** The predicate for what the running hooks leave to user space: a filter
 *  any hook does not apply in the kernel is applied here, for every event. */
export function userSpaceFilterFor(f: Filters, plans: ReadonlyArray<{ filters: Partial<Record<FilterName, FilterPlace>> }>): (e: Event) => boolean {
  const inUser = new Set<FilterName>()
  for (const p of plans) {
    for (const [name, place] of Object.entries(p.filters)) if (place !== 'kernel') inUser.add(name as FilterName)
  }
  return userSpaceFilter(f, inUser)
}

type Endpoint = { addr: string; port: number }

/** Both endpoints of an event's flow (segment or socket view), or [null, null]
 *  for events without one (drop counts). */
function endpointsOf(e: Event): [Endpoint, Endpoint] | [null, null] {
  if ('saddr' in e) {
    return [
      { addr: e.saddr, port: e.sport },
      { addr: e.daddr, port: e.dport },
    ]
  }
  if ('laddr' in e) {
    return [
      { addr: e.laddr, port: e.lport },
      { addr: e.raddr, port: e.rport },
    ]
  }
  return [null, null]
}
