import t from 'tap'
import { retransmitEvent } from '../lib/events.js'
import type { RetransmitEvent } from '../../lib/events.js'
import { tcpretrans } from '../../lib/tools/tcpretrans.js'
import { TcpretransOutput } from '../../lib/tools/tcpretrans-output.js'
import { captureContext, optionsFor } from '../lib/output-context.js'

// The exact text of tcpretrans's two tables: one row per retransmit (with the
// optional SEQ and ERR columns), and the per-flow counts of -c.

const rt = (over: Partial<RetransmitEvent> = {}): RetransmitEvent => retransmitEvent({ lport: 22, rport: 51234, seq: 3905436546, ...over })

const V6_LONG = '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1' // 43 characters as [addr]:port

function run(argv: string[], events: RetransmitEvent[]): { out: string[]; notes: string } {
  const c = captureContext(optionsFor(tcpretrans, argv))
  const o = new TcpretransOutput(c.ctx)
  o.header()
  for (const e of events) o.event(e)
  o.finish({ lost: 0, suppressed: 0, unresolved: 0, hidden: 0, durationS: 1, kernel: null })
  return { out: c.out().split('\n'), notes: c.notes() }
}

const EVENTS = [
  rt(),
  rt({ kind: 'tcp-loss-probe', family: 6, laddr: V6_LONG, lport: 54321, raddr: '::1', rport: 80, seq: null }),
  rt({ err: -110, state: null, pid: 1234567 }),
]

t.test('per event: header and rows, no trailing spaces', async (t) => {
  t.same(run([], EVENTS).out, [
    'TIME     PID    IP LADDR:LPORT            T> RADDR:RPORT            STATE',
    '08:11:49 0      4  10.0.0.1:22            R> 10.0.0.2:51234         ESTABLISHED',
    '08:11:49 0      6  [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:54321 L> [::1]:80               ESTABLISHED',
    '08:11:49 1234567 4  10.0.0.1:22            F> 10.0.0.2:51234         -',
    '',
  ])
})

t.test('per event: --seq, --err and both', async (t) => {
  t.same(run(['--seq'], EVENTS).out, [
    'TIME     PID    IP LADDR:LPORT            T> RADDR:RPORT            STATE       SEQ',
    '08:11:49 0      4  10.0.0.1:22            R> 10.0.0.2:51234         ESTABLISHED 3905436546',
    '08:11:49 0      6  [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:54321 L> [::1]:80               ESTABLISHED -',
    '08:11:49 1234567 4  10.0.0.1:22            F> 10.0.0.2:51234         -           3905436546',
    '',
  ])
  t.same(run(['--err'], EVENTS).out, [
    'TIME     PID    IP LADDR:LPORT            T> RADDR:RPORT            STATE       ERR',
    '08:11:49 0      4  10.0.0.1:22            R> 10.0.0.2:51234         ESTABLISHED -',
    '08:11:49 0      6  [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:54321 L> [::1]:80               ESTABLISHED -',
    '08:11:49 1234567 4  10.0.0.1:22            F> 10.0.0.2:51234         -           -110(ETIMEDOUT)',
    '',
  ])
  t.same(run(['--seq', '--err'], EVENTS).out, [
    'TIME     PID    IP LADDR:LPORT            T> RADDR:RPORT            STATE       SEQ        ERR',
    '08:11:49 0      4  10.0.0.1:22            R> 10.0.0.2:51234         ESTABLISHED 3905436546 -',
    '08:11:49 0      6  [2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:54321 L> [::1]:80               ESTABLISHED -          -',
    '08:11:49 1234567 4  10.0.0.1:22            F> 10.0.0.2:51234         -           3905436546 -110(ETIMEDOUT)',
    '',
  ])
})

t.test('per event: --stack frames under the row', async (t) => {
  t.same(run(['-s'], [rt({ stack: ['tcp_retransmit_skb+0x1', 'tcp_retransmit_timer+0x2'] }), rt()]).out.slice(1), [
    '08:11:49 0      4  10.0.0.1:22            R> 10.0.0.2:51234         ESTABLISHED',
    '\ttcp_retransmit_skb+0x1',
    '\ttcp_retransmit_timer+0x2',
    '08:11:49 0      4  10.0.0.1:22            R> 10.0.0.2:51234         ESTABLISHED',
    '\t(stack not recorded)',
    '',
  ])
})

t.test('-c: per-flow counts, most first, no per-event header', async (t) => {
  const r = run(['-c'], [
    rt(),
    rt({ family: 6, laddr: V6_LONG, lport: 54321, raddr: '::1', rport: 80 }),
    rt({ family: 6, laddr: V6_LONG, lport: 54321, raddr: '::1', rport: 80 }),
    rt({ rport: 51235 }),
  ])
  t.same(r.out, [
    'LADDR:LPORT                  <-> RADDR:RPORT                  RETRANSMITS',
    '[2001:db8:aaaa:bbbb:cccc:dddd:eeee:1]:54321 <-> [::1]:80                     2',
    '10.0.0.1:22                  <-> 10.0.0.2:51234               1',
    '10.0.0.1:22                  <-> 10.0.0.2:51235               1',
    '',
  ])
  t.equal(r.notes, 'Ending tracing: 4 retransmits (0 SYN-ACK), 0 lost.')
})

t.test('-c -i: each interval is a time line and a table', async (t) => {
  const c = captureContext(optionsFor(tcpretrans, ['-c', '-i', '1']))
  const o = new TcpretransOutput(c.ctx)
  o.header()
  o.event(rt())
  o.interval()
  o.interval()
  const out = c.out().split('\n')
  t.match(out[0], /^\d\d:\d\d:\d\d$/)
  t.equal(out[1], 'LADDR:LPORT                  <-> RADDR:RPORT                  RETRANSMITS')
  t.equal(out[2], '10.0.0.1:22                  <-> 10.0.0.2:51234               1')
  t.match(out[3], /^\d\d:\d\d:\d\d$/)
  t.equal(out[4], 'LADDR:LPORT                  <-> RADDR:RPORT                  RETRANSMITS', 'an empty interval still has its header')
  t.equal(out[5], '')
})

t.test("the kernel's counters beside the records: segments of the counted namespace", async (t) => {
  const c = captureContext(optionsFor(tcpretrans, ['-l']))
  const o = new TcpretransOutput(c.ctx)
  o.header()
  for (const e of [rt({ netns: 7, segs: 3 }), rt({ netns: 7, segs: 1 }), rt({ netns: 8, segs: 5 }), rt({ kind: 'tcp-loss-probe', netns: 7, segs: 1 })]) o.event(e)
  const mib = new Map([['TcpRetransSegs', 5], ['TcpExtTCPRetransFail', 1], ['TcpExtTCPLossProbes', 1]])
  o.finish({ lost: 0, suppressed: 0, unresolved: 0, hidden: 0, durationS: 1, kernel: { netns: 7, mib, devices: [], backlog: new Map() } })
  t.match(
    c.notes(),
    'Kernel counters (netns 7): TcpRetransSegs − TCPRetransFail = 4 (records: 4 segments in 2 retransmits); TCPSynRetrans 0; TCPLossProbes 1 (records: 1)',
    'netns 8 is not counted; the loss probe is not a retransmit',
  )
})
