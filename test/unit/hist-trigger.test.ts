// Hist-trigger counting (dropwatch on ftrace where the kernel has hist
// triggers): the `hist` file of skb:kfree_skb captured in the Debian 6.1 guest.
import t from 'tap'
import { parseFormat } from '../../ftrace/format.js'
import { HistDeltas, histTrigger, parseHist } from '../../ftrace/hist-trigger.js'
import { buildContext, decodeHistEntry, locationSource } from '../../ftrace/hooks/skb-drop-count.js'
import { fixture } from '../lib/fixtures.js'

const text = fixture('6.1', 'kfree_skb-hist.txt')

t.test('parses entries, keys and totals of a real hist file', async (t) => {
  const table = parseHist(text)
  t.equal(table.entries.length, 2)
  t.equal(table.hits, 2005)
  t.equal(table.dropped, 0)
  const udp = table.entries.find((e) => e.keys.get('location')?.includes('__udp4_lib_rcv'))
  t.same(Object.fromEntries(udp?.keys ?? []), { location: '[ffffffff818bcae2] __udp4_lib_rcv+0x9a2/0xc30', protocol: '2048', reason: '2' })
  t.equal(udp?.hitcount, 2000)
  t.equal(table.entries.reduce((n, e) => n + e.hitcount, 0), table.hits, 'entries add up to Hits')
})

t.test('the trigger text is the one the 6.1 kernel accepted', async (t) => {
  const accepted = /^# trigger info: (hist:\S+) if (.*) \[active\]$/m.exec(text)
  t.ok(accepted)
  // Written without sort=, which only orders the printout.
  t.equal(
    histTrigger(['location.sym-offset', 'protocol', 'reason'], 4096, 'protocol == 2048'),
    `${(accepted?.[1] ?? '').replace(':sort=hitcount', '')} if ${accepted?.[2]}`,
  )
  t.equal(histTrigger(['location.sym-offset', 'protocol'], 8192), 'hist:keys=location.sym-offset,protocol:vals=hitcount:size=8192')
})

t.test('cumulative counts become per-read growth; unchanged entries are not reported', async (t) => {
  const deltas = new HistDeltas()
  t.same(deltas.next(parseHist(text)).map((d) => d.delta).sort((a, b) => a - b), [5, 2000])
  const grown = text.replace(/hitcount:\s+2000/, 'hitcount:       2500')
  t.same(deltas.next(parseHist(grown)).map((d) => [d.entry.keys.get('protocol'), d.delta]), [['2048', 500]])
  t.same(deltas.next(parseHist(grown)), [])
})

t.test('an entry decodes to a count event: symbol from .sym-offset, reason name from the kernel', async (t) => {
  const fmt = parseFormat(fixture('6.1', 'skb__kfree_skb.format'))
  const ctx = buildContext(fmt, [], { hashPtrOption: true, kallsyms: () => null, btfPath: '/nonexistent/btf', histTriggers: true })
  const entries = parseHist(text).entries
  const events = entries.map((e) => decodeHistEntry(e, e.hitcount, ctx))
  t.match(events, [
    { location: 'tcp_v4_rcv+0x81', address: 'ffffffff818ac491', reason: 'NO_SOCKET', reasonCode: 2, family: 4, protocol: 2048, count: 5 },
    { location: '__udp4_lib_rcv+0x9a2', address: 'ffffffff818bcae2', reason: 'NO_SOCKET', family: 4, count: 2000 },
  ])
  t.equal(locationSource(ctx), 'location:hist(.sym-offset)', 'says where locations come from')
  t.equal(decodeHistEntry({ id: 'x', keys: new Map([['protocol', '2048']]), hitcount: 1 }, 1, ctx), null, 'malformed entry skipped')
})
