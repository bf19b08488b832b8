import t from 'tap'
import type { SkbDropCountEvent } from '../../lib/events.js'
import { EventClock } from '../../lib/format/clock.js'
import type { DropwatchOptions } from '../../lib/tools/dropwatch.js'
import { dropwatchBanner, DropwatchOutput } from '../../lib/tools/dropwatch-output.js'
import { commonOptions } from '../lib/output-context.js'


function output(options: Partial<DropwatchOptions> = {}, json = false) {
  let text = ''
  const o = new DropwatchOutput({
    common: commonOptions(json),
    options: { interval: 5, by: 'both', addresses: false, top: null, reasons: [], prometheus: null, ...options },
    backend: 'ftrace',
    clock: new EventClock(),
    out: (s) => (text += s),
    note: () => {},
    unseenCounters: new Set(),
  })
  return { o, text: () => text, take: () => ((text = ''), undefined) }
}

const drop = (location: string, reason: string | null, count = 1, over: Partial<SkbDropCountEvent> = {}): SkbDropCountEvent => ({
  kind: 'skb-drop-count',
  location,
  address: location.startsWith('nft') ? 'ffffffff81f636bf' : 'ffffffff81e9a5f0',
  reason,
  reasonCode: null,
  protocol: 2048,
  family: 4,
  netns: null,
  ifindex: null,
  dev: null,
  count,
  ...over,
})

function feed(o: DropwatchOutput) {
  for (let i = 0; i < 2000; i++) o.event(drop('nft_do_chain+0x46f', 'NETFILTER_DROP'))
  o.event(drop('tcp_v4_rcv+0x1a0', 'NO_SOCKET', 51)) // kernel-aggregated (bpf) counts add up the same
}

const HMS = /^\d\d:\d\d:\d\d {2}/

t.test('text: SPEC §6 layout, sorted by count, 0-drop intervals, summary', async (t) => {
  const { o, text } = output()
  feed(o)
  o.interval({ lost: 0 })
  o.interval({ lost: 0 })
  o.finish({ lost: 0, suppressed: 0, unresolved: 0, hidden: 0, durationS: 10, kernel: null })
  const lines = text().split('\n')
  t.match(lines[0], HMS)
  t.match(lines[0], /  2051 drops$/)
  t.equal(lines[1], '    2000 packets dropped at nft_do_chain+0x46f (NETFILTER_DROP)')
  t.equal(lines[2], '      51 packets dropped at tcp_v4_rcv+0x1a0 (NO_SOCKET)')
  t.match(lines[3], /^\d\d:\d\d:\d\d  0 drops$/)
  t.equal(lines[4], '', 'no extra interval at the end: nothing happened since the last one')
  t.equal(lines[5], 'Total over 10 s: 2051 drops, 0 lost')
  t.equal(lines[6], '    2000 packets dropped at nft_do_chain+0x46f (NETFILTER_DROP)')
})

t.test('-a, --by location|reason|dev, --top', async (t) => {
  let r = output({ addresses: true })
  feed(r.o)
  r.o.interval({ lost: 0 })
  t.match(r.text(), /\n    2000 packets dropped at ffffffff81f636bf nft_do_chain\+0x46f \(NETFILTER_DROP\)\n/)

  r = output({ by: 'location' })
  r.o.event(drop('a+0x1', 'X', 3))
  r.o.event(drop('a+0x1', 'Y', 4))
  r.o.interval({ lost: 0 })
  t.match(r.text(), /\n       7 packets dropped at a\+0x1\n$/)

  r = output({ by: 'reason' })
  r.o.event(drop('a+0x1', 'X', 3))
  r.o.event(drop('b+0x1', 'X', 4))
  r.o.event(drop('b+0x1', null, 1))
  r.o.interval({ lost: 0 })
  t.match(r.text(), /\n       7 packets dropped \(X\)\n       1 packets dropped \(-\)\n$/)

  r = output({ by: 'dev' })
  r.o.event(drop('a+0x1', 'X', 3, { dev: 'eth0' }))
  r.o.event(drop('a+0x1', 'X', 2, { ifindex: 7 }))
  r.o.interval({ lost: 0 })
  t.match(r.text(), /\n       3 packets dropped on eth0\n       2 packets dropped on if7\n$/)

  r = output({ top: 1 })
  feed(r.o)
  r.o.event(drop('x+0x2', 'Z', 9))
  r.o.interval({ lost: 0 })
  t.match(r.text(), /  2060 drops\n    2000 packets dropped at nft_do_chain\+0x46f \(NETFILTER_DROP\)\n      60 packets dropped elsewhere \(2 more lines, --top 1\)\n$/)
})

t.test('no reasons (old kernels): no parentheses', async (t) => {
  const r = output()
  r.o.event(drop('nf_hook_slow+0x93', null, 5))
  r.o.interval({ lost: 0 })
  t.match(r.text(), /\n       5 packets dropped at nf_hook_slow\+0x93\n$/)
})

t.test('lost per interval, then in the summary', async (t) => {
  const r = output()
  r.o.event(drop('a+0x1', 'X', 10))
  r.o.interval({ lost: 4 })
  r.o.interval({ lost: 4 })
  r.o.finish({ lost: 6, suppressed: 0, unresolved: 0, hidden: 0, durationS: 3, kernel: null })
  const lines = r.text().split('\n')
  t.match(lines[0], /  10 drops \(4 events lost: counts are low\)$/)
  t.match(lines[2], /  0 drops$/, 'no new loss: not repeated')
  t.match(lines[3], /  0 drops \(2 events lost: counts are low\)$/, 'loss after the last interval gets a last interval')
  t.match(r.text(), /Total over 3 s: 10 drops, 6 lost \(counts are low by up to that many\)/)
})

t.test('JSON: interval records, then one summary; intervals add up to it', async (t) => {
  const r = output({}, true)
  feed(r.o)
  r.o.interval({ lost: 0 })
  r.o.interval({ lost: 1 })
  r.o.event(drop('late+0x1', 'NO_SOCKET', 2)) // after the last interval, e.g. Ctrl-C
  r.o.finish({ lost: 1, suppressed: 0, unresolved: 0, hidden: 0, durationS: 10.2, kernel: null })
  const recs = r.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  t.same(recs.map((x) => x.type), ['interval', 'interval', 'interval', 'summary'])
  t.match(recs[0], { interval_s: 5, total: 2051, lost: 0, backend: 'ftrace', time: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/ })
  t.same((recs[0]?.drops as unknown[])[0], { location: 'nft_do_chain+0x46f', address: 'ffffffff81f636bf', reason: 'NETFILTER_DROP', count: 2000 })
  t.match(recs[1], { total: 0, drops: [], lost: 1 })
  t.match(recs[2], { total: 2, lost: 0 })
  t.ok((recs[2]?.interval_s as number) <= 5, 'the last, partial interval says how long it was')
  t.match(recs[3], { type: 'summary', duration_s: 10.2, total: 2053, lost: 1, backend: 'ftrace' })
  const sum = recs.filter((x) => x.type === 'interval').reduce((s, x) => s + (x.total as number), 0)
  t.equal(sum, recs[3]?.total, 'sum of intervals == summary total')
})

t.test('a run shorter than one interval still prints one interval', async (t) => {
  const r = output({}, true)
  r.o.finish({ lost: 0, suppressed: 0, unresolved: 0, hidden: 0, durationS: 0.4, kernel: null })
  const recs = r.text().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  t.same(recs.map((x) => x.type), ['interval', 'summary'])
})

t.test('banner: SPEC §6 wording, hooks, how locations are read, what is not seen', async (t) => {
  const b = dropwatchBanner('ftrace', [
    { kind: 'skb-drop-count', usable: true, reason: null, hookType: 'tracepoint', hook: 'tracepoint skb:kfree_skb', fields: ['location:%pS', 'reason'], filters: {}, cannotSee: ['device (--by dev)'] },
  ])
  t.equal(b.split('\n')[0], 'Monitoring for dropped packets (ftrace, tracepoint skb:kfree_skb, location via %pS). Ctrl-C to stop.')
  t.match(b, /\nNot seen by ftrace: device \(--by dev\)\.$/)
})

t.test('COUNT is right-aligned to the widest count shown (at least 8)', async (t) => {
  let r = output()
  r.o.event(drop('a+0x1', 'X', 123456789012))
  r.o.event(drop('b+0x2', null, 5))
  r.o.interval({ lost: 0 })
  t.same(r.text().split('\n').slice(1), ['123456789012 packets dropped at a+0x1 (X)', '           5 packets dropped at b+0x2', ''])

  r = output({ top: 1 })
  r.o.event(drop('a+0x1', 'X', 600000000))
  r.o.event(drop('b+0x2', 'Y', 500000000))
  r.o.event(drop('c+0x3', 'Y', 500000000))
  r.o.interval({ lost: 0 })
  t.same(
    r.text().split('\n').slice(1),
    ['600000000 packets dropped at a+0x1 (X)', '1000000000 packets dropped elsewhere (2 more lines, --top 1)', ''],
    'the rest is not counted in the width: it pushes its line',
  )

  r = output({ top: 1, by: 'reason' })
  r.o.event(drop('a+0x1', 'X', 3))
  r.o.event(drop('b+0x2', 'Y', 2))
  r.o.interval({ lost: 0 })
  t.same(r.text().split('\n').slice(1), ['       3 packets dropped (X)', '       2 packets dropped elsewhere (1 more line, --top 1)', ''])
})
