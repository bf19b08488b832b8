import t from 'tap'
import { retransmitEvent, skbDropCountEvent, tcpDropEvent } from '../lib/events.js'
import type { Event, RetransmitEvent, SkbDropCountEvent, TcpDropEvent } from '../../lib/events.js'
import { NO_FILTERS, requestedFilters, userSpaceFilter, userSpaceFilterFor, type FilterName, type Filters } from '../../lib/filters.js'

// The user-space half of the filters (SPEC §3): what the kernel did not apply
// is applied here, on the fields of each event kind.

const NS = 4026531840

const retransmit = (over: Partial<RetransmitEvent> = {}): RetransmitEvent => retransmitEvent({ netns: NS, ...over })

const drop = (over: Partial<TcpDropEvent> = {}): TcpDropEvent => tcpDropEvent({ tcpflags: null, location: null, netns: NS, ...over })

const count = (over: Partial<SkbDropCountEvent> = {}): SkbDropCountEvent => skbDropCountEvent({ netns: NS, count: 3, ...over })

const ALL: ReadonlySet<FilterName> = new Set(['family', 'port', 'addr', 'netns', 'reason'])
const only = (...names: FilterName[]) => new Set(names)
const filters = (f: Partial<Filters>): Filters => ({ ...NO_FILTERS, ...f })

/** Which of the events the filter keeps, by index. */
function kept(keep: (e: Event) => boolean, events: Event[]): number[] {
  return events.flatMap((e, i) => (keep(e) ? [i] : []))
}

t.test('requestedFilters: the filters asked for, in a fixed order', async (t) => {
  t.strictSame(requestedFilters(NO_FILTERS), [])
  t.strictSame(requestedFilters(filters({ reasons: ['NO_SOCKET'], netns: 0, addrs: ['::1'], ports: [1], family: 6 })), ['family', 'port', 'addr', 'netns', 'reason'])
  t.strictSame(requestedFilters(filters({ ports: [80, 443] })), ['port'])
  t.strictSame(requestedFilters(filters({ netns: 0 })), ['netns'], 'netns 0 is a value, not "none"')
  t.strictSame(requestedFilters(filters({ ports: [], addrs: [], reasons: [] })), [])
})

t.test('no filters: everything passes, whatever is in user space', async (t) => {
  const keep = userSpaceFilter(NO_FILTERS, ALL)
  t.strictSame(kept(keep, [retransmit(), drop(), count(), count({ family: null, netns: null, reason: null })]), [0, 1, 2, 3])
})

t.test('family (-4/-6): on every kind; no family (non-IP drops) does not match', async (t) => {
  const keep = userSpaceFilter(filters({ family: 6 }), only('family'))
  t.strictSame(kept(keep, [retransmit(), retransmit({ family: 6 }), drop(), drop({ family: 6 }), count(), count({ family: 6 }), count({ family: null })]), [1, 3, 5])
  const v4 = userSpaceFilter(filters({ family: 4 }), only('family'))
  t.strictSame(kept(v4, [retransmit(), drop(), count(), count({ family: null })]), [0, 1, 2])
})

t.test('--port: either end of the flow (retransmits laddr/raddr, tcp-drop saddr/daddr); any of the ports', async (t) => {
  const keep = userSpaceFilter(filters({ ports: [443, 22] }), only('port'))
  t.strictSame(
    kept(keep, [
      retransmit(), // lport 443
      retransmit({ lport: 1, rport: 443 }),
      retransmit({ lport: 1, rport: 2 }),
      retransmit({ kind: 'tcp-synack-retransmit', lport: 22 }),
      retransmit({ kind: 'tcp-loss-probe', lport: 1, rport: 22 }),
      retransmit({ kind: 'tcp-loss-probe', lport: 1, rport: 2 }),
    ]),
    [0, 1, 3, 4],
  )
  t.strictSame(kept(keep, [drop(), drop({ sport: 22, dport: 1 }), drop({ sport: 1, dport: 2 }), drop({ sport: 443, dport: 9 })]), [0, 1, 3])
  t.strictSame(kept(keep, [count(), count({ location: 'port 22' })]), [], 'skb-drop-count has no endpoints: never matches a port')
})

t.test('--addr: either end of the flow, by canonical text; any of the addresses', async (t) => {
  const keep = userSpaceFilter(filters({ addrs: ['10.0.0.2', '2001:db8::1'] }), only('addr'))
  t.strictSame(
    kept(keep, [
      retransmit(), // raddr 10.0.0.2
      retransmit({ laddr: '10.0.0.2', raddr: '10.0.0.9' }),
      retransmit({ laddr: '10.0.0.1', raddr: '10.0.0.3' }),
      retransmit({ family: 6, laddr: '2001:db8::1', raddr: '2001:db8::2' }),
    ]),
    [0, 1, 3],
  )
  t.strictSame(
    kept(keep, [drop(), drop({ saddr: '10.0.0.2' }), drop({ daddr: '10.0.0.2' }), drop({ family: 6, saddr: '2001:db8::2', daddr: '2001:db8::1' })]),
    [1, 2, 3],
  )
  t.strictSame(kept(keep, [count()]), [], 'skb-drop-count has no endpoints: never matches an address')
})

t.test('--netns: the event\'s netns; unknown netns does not match', async (t) => {
  const keep = userSpaceFilter(filters({ netns: NS }), only('netns'))
  t.strictSame(
    kept(keep, [retransmit(), retransmit({ netns: 1 }), retransmit({ netns: null }), drop(), drop({ netns: 1 }), count(), count({ netns: null })]),
    [0, 3, 5],
  )
})

t.test('--reason: drop reasons; events without a reason never match', async (t) => {
  const keep = userSpaceFilter(filters({ reasons: ['NO_SOCKET', 'TCP_CSUM'] }), only('reason'))
  t.strictSame(kept(keep, [drop(), drop({ reason: 'TCP_CSUM' }), drop({ reason: 'NOT_SPECIFIED' }), drop({ reason: null })]), [0, 1])
  t.strictSame(kept(keep, [count(), count({ reason: 'OTHERHOST' }), count({ reason: null })]), [0])
  t.strictSame(kept(keep, [retransmit()]), [], 'a retransmit has no reason')
})

t.test('several filters: all must hold', async (t) => {
  const keep = userSpaceFilter(filters({ family: 4, ports: [22], reasons: ['NO_SOCKET'] }), ALL)
  t.strictSame(kept(keep, [drop(), drop({ reason: 'TCP_CSUM' }), drop({ dport: 23 }), drop({ family: 6 })]), [0])
})

t.test('only the filters left to user space are applied here', async (t) => {
  // Each filter alone rejects every one of the events.
  const rejecting: Record<FilterName, Partial<Filters>> = {
    family: { family: 6 },
    port: { ports: [9] },
    addr: { addrs: ['203.0.113.1'] },
    netns: { netns: 1 },
    reason: { reasons: ['OTHERHOST'] },
  }
  const events = [retransmit(), drop(), count()]
  const every = filters(Object.assign({}, ...Object.values(rejecting)) as Partial<Filters>)
  t.strictSame(kept(userSpaceFilter(every, new Set()), events), [0, 1, 2], 'all in the kernel: nothing repeated')
  for (const name of ALL) {
    const f = filters(rejecting[name])
    t.strictSame(kept(userSpaceFilter(f, only(name)), events), [], `${name} in user space: applied`)
    const others = new Set([...ALL].filter((n) => n !== name))
    t.strictSame(kept(userSpaceFilter(f, others), events), [0, 1, 2], `${name} in the kernel: not repeated`)
  }
  // A filter that is in user space but was not asked for checks nothing.
  t.strictSame(kept(userSpaceFilter(filters({ ports: [22] }), ALL), [drop(), drop({ family: 6, netns: null, reason: null })]), [0, 1])
})

t.test('userSpaceFilterFor: a filter any running hook leaves to user space is applied to every event', async (t) => {
  const f = filters({ ports: [443], netns: NS })
  const events = [retransmit(), retransmit({ lport: 1 }), retransmit({ netns: 1 }), retransmit({ kind: 'tcp-synack-retransmit', lport: 1 })]

  t.strictSame(kept(userSpaceFilterFor(f, [{ filters: { port: 'kernel', netns: 'kernel' } }]), events), [0, 1, 2, 3], 'all kernel: nothing repeated')
  t.strictSame(kept(userSpaceFilterFor(f, [{ filters: { port: 'user', netns: 'kernel' } }]), events), [0, 2])
  t.strictSame(kept(userSpaceFilterFor(f, [{ filters: { port: 'kernel', netns: 'user' } }]), events), [0, 1, 3])
  t.strictSame(kept(userSpaceFilterFor(f, [{ filters: { port: 'user', netns: 'user' } }]), events), [0])
  // One hook applies --port in the kernel, the other cannot: every event is checked.
  t.strictSame(kept(userSpaceFilterFor(f, [{ filters: { port: 'kernel', netns: 'kernel' } }, { filters: { port: 'user', netns: 'kernel' } }]), events), [0, 2])
  // Not applied in the kernel (whatever the place says) is applied here.
  t.strictSame(kept(userSpaceFilterFor(f, [{ filters: { port: 'none', netns: 'kernel' } }]), events), [0, 2])
  t.strictSame(kept(userSpaceFilterFor(f, []), events), [0, 1, 2, 3], 'no plans: nothing to apply')
})
