import t from 'tap'
import type { TcpDropEvent } from '../../lib/events.js'
import { tcpdrop } from '../../lib/tools/tcpdrop.js'
import { TcpdropOutput } from '../../lib/tools/tcpdrop-output.js'
import { captureContext, optionsFor } from '../lib/output-context.js'

// The exact text of tcpdrop's table (SPEC §4), header and rows, with and
// without the optional OWNER column.

const drop = (over: Partial<TcpDropEvent> = {}): TcpDropEvent => ({
  kind: 'tcp-drop',
  tsNs: 0n,
  pid: 17732,
  comm: 'iperf3',
  family: 4,
  saddr: '198.18.77.1',
  sport: 56860,
  daddr: '198.18.77.2',
  dport: 5201,
  state: 'ESTABLISHED',
  tcpflags: ['ACK'],
  reason: 'NETFILTER_DROP',
  reasonCode: 8,
  location: 'nft_do_chain+0x46f',
  netns: null,
  ifindex: null,
  dev: null,
  stack: null,
  owner: { pid: 12861, comm: 'iperf3' },
  skbId: null,
  ...over,
})

function lines(argv: string[], events: TcpDropEvent[]): string[] {
  const c = captureContext(optionsFor(tcpdrop, argv))
  const o = new TcpdropOutput(c.ctx)
  o.header()
  for (const e of events) o.event(e)
  return c.out().split('\n')
}

const V6_LONG = '2001:db8:aaaa:bbbb:cccc:dddd:eeee:2' // 43 characters as [addr]:port

t.test('header and rows: bcc columns, IPv4 and IPv6, missing fields as "-"', async (t) => {
  const out = lines(['--no-stack'], [
    drop(),
    drop({ family: 6, saddr: '2001:db8::1', sport: 443, daddr: V6_LONG, dport: 54321, state: null, tcpflags: ['SYN'], reason: null }),
    drop({ tcpflags: [], state: 'TIME_WAIT', reason: 'TCP_INVALID_SEQUENCE' }),
    drop({ tcpflags: null, pid: 123456789, reason: 'NO_SOCKET' }),
  ])
  t.same(out, [
    'TIME     PID     IP SADDR:SPORT            > DADDR:DPORT            STATE       (FLAGS)   REASON',
    '08:11:49 17732   4  198.18.77.1:56860      > 198.18.77.2:5201       ESTABLISHED (ACK)     NETFILTER_DROP',
    '08:11:49 17732   6  [2001:db8::1]:443      > [2001:db8:aaaa:bbbb:cccc:dddd:eeee:2]:54321 -           (SYN)     -',
    '08:11:49 17732   4  198.18.77.1:56860      > 198.18.77.2:5201       TIME_WAIT   (-)       TCP_INVALID_SEQUENCE',
    '08:11:49 123456789 4  198.18.77.1:56860      > 198.18.77.2:5201       ESTABLISHED -         NO_SOCKET',
    '',
  ])
})

t.test('--owner: REASON padded to 18 with at least one space, then OWNER', async (t) => {
  const out = lines(['--no-stack', '--owner'], [
    drop(),
    drop({ reason: 'TCP_MD5UNEXPECTED' }), // 17 characters
    drop({ reason: 'TCP_INVALID_SEQUENCE', owner: null }), // 20 characters, no owner found
    drop({ reason: null, owner: { pid: 7, comm: 'ev\u001b[31m il\nX' } }),
  ])
  // The header has always had OWNER one column to the right of the rows' owners.
  t.same(out, [
    'TIME     PID     IP SADDR:SPORT            > DADDR:DPORT            STATE       (FLAGS)   REASON             OWNER',
    '08:11:49 17732   4  198.18.77.1:56860      > 198.18.77.2:5201       ESTABLISHED (ACK)     NETFILTER_DROP    12861/iperf3',
    '08:11:49 17732   4  198.18.77.1:56860      > 198.18.77.2:5201       ESTABLISHED (ACK)     TCP_MD5UNEXPECTED 12861/iperf3',
    '08:11:49 17732   4  198.18.77.1:56860      > 198.18.77.2:5201       ESTABLISHED (ACK)     TCP_INVALID_SEQUENCE -',
    '08:11:49 17732   4  198.18.77.1:56860      > 198.18.77.2:5201       ESTABLISHED (ACK)     -                 7/ev\\x1b[31m il\\x0aX',
    '',
  ])
})

t.test('stacks under the row, tab-indented; none with --no-stack', async (t) => {
  const out = lines([], [drop({ stack: ['kfree_skb_reason+0x1', 'tcp_v4_rcv+0x2'] }), drop({ stack: 'not-sampled' }), drop({ stack: null })])
  t.same(out.slice(1), [
    '08:11:49 17732   4  198.18.77.1:56860      > 198.18.77.2:5201       ESTABLISHED (ACK)     NETFILTER_DROP',
    '\tkfree_skb_reason+0x1',
    '\ttcp_v4_rcv+0x2',
    '08:11:49 17732   4  198.18.77.1:56860      > 198.18.77.2:5201       ESTABLISHED (ACK)     NETFILTER_DROP',
    '\t(stack not sampled)',
    '08:11:49 17732   4  198.18.77.1:56860      > 198.18.77.2:5201       ESTABLISHED (ACK)     NETFILTER_DROP',
    '',
  ])
})

t.test('JSON: no header line', async (t) => {
  const c = captureContext(optionsFor(tcpdrop, ['--no-stack']), { json: true })
  const o = new TcpdropOutput(c.ctx)
  o.header()
  o.event(drop())
  const recs = c.out().trim().split('\n')
  t.equal(recs.length, 1)
  t.match(JSON.parse(recs[0] ?? ''), { type: 'drop', saddr: '198.18.77.1', reason: 'NETFILTER_DROP' })
})

t.test('summary: the TCP drop counters that moved, the caveat, and what this backend cannot see here', async (t) => {
  const kernel = {
    netns: 4026532304,
    mib: new Map([
      ['TcpExtTCPZeroWindowDrop', 19],
      ['TcpExtTCPRcvQDrop', 1],
      ['TcpExtRcvPruned', 1],
      ['TcpRetransSegs', 40], // not a drop counter: left out
    ]),
    devices: [],
    backlog: new Map(),
  }
  const totals = { lost: 0, suppressed: 0, unresolved: 0, hidden: 0, durationS: 5, kernel }
  const blind = captureContext(optionsFor(tcpdrop, []), { unseenCounters: ['TcpExtTCPZeroWindowDrop', 'TcpExtTCPRcvQDrop'] })
  new TcpdropOutput(blind.ctx).finish(totals)
  t.match(blind.notes(), /^Kernel counters \(netns 4026532304\), TCP segments dropped: TCPRcvQDrop 1, TCPZeroWindowDrop 19, RcvPruned 1$/m)
  t.match(blind.notes(), /one drop can move two counters or none/)
  t.match(blind.notes(), /^ {2}kernel counted 1 TCPRcvQDrop, 19 TCPZeroWindowDrop; bpf cannot see these data-path drops on this kernel \(see --list-backends\)$/m)
  const sees = captureContext(optionsFor(tcpdrop, []))
  new TcpdropOutput(sees.ctx).finish(totals)
  t.notMatch(sees.notes(), /cannot see/, 'a backend that sees them says nothing of it')
  const json = captureContext(optionsFor(tcpdrop, []), { json: true })
  new TcpdropOutput(json.ctx).finish(totals)
  t.match(JSON.parse(json.out()), { kernel_netns: 4026532304, kernel_counters: { TcpExtTCPRcvQDrop: 1, TcpExtTCPZeroWindowDrop: 19, TcpExtRcvPruned: 1 } })
  t.notOk('TcpRetransSegs' in (JSON.parse(json.out()).kernel_counters as object))
  const none = captureContext(optionsFor(tcpdrop, []))
  new TcpdropOutput(none.ctx).finish({ ...totals, kernel: { ...kernel, mib: new Map() } })
  t.match(none.notes(), /^Kernel counters \(netns 4026532304\): no TCP drop counter moved\.$/m)
  const unread = captureContext(optionsFor(tcpdrop, []), { json: true })
  new TcpdropOutput(unread.ctx).finish({ ...totals, kernel: null })
  t.match(JSON.parse(unread.out()), { kernel_netns: null, kernel_counters: null }, 'unreadable: null')
})
