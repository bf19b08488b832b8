// kprobe trace lines captured in 5.10 and 6.1 guests (test/fixtures/kernel-*/
// trace_pipe-kprobe-*.txt, probes named fxk_*) through the tcpretrans kprobe hooks.
import t from 'tap'
import type { KprobeHook, SocketLookup } from '../../ftrace/hooks/kprobe-hook.js'
import { tcpLossProbeKprobe, tcpRetransmitKprobe, tcpRtxSynackKprobe } from '../../ftrace/hooks/tcp-retransmit-kprobe.js'
import { parseTraceLine } from '../../ftrace/trace-line.js'
import { parseProcNetTcp, type ProcTcpEntry } from '../../lib/kernel/proc-net-tcp.js'
import { fixture } from '../lib/fixtures.js'

const HOOKS: Record<string, KprobeHook> = { fxk_rtx: tcpRetransmitKprobe, fxk_synack: tcpRtxSynackKprobe, fxk_tlp: tcpLossProbeKprobe }

function tableOf(...texts: string[]): SocketLookup {
  const map = new Map<string, ProcTcpEntry>()
  for (const text of texts) for (const e of parseProcNetTcp(text, 'tcp6')) map.set(e.pointer, e)
  return { lookup: (p) => map.get(p.replace(/^0x/, '').padStart(16, '0')) ?? null }
}

function decodeAll(text: string, sockets: SocketLookup | null) {
  const out = []
  for (const raw of text.split('\n')) {
    const line = parseTraceLine(raw)
    if (line?.type !== 'event' || !HOOKS[line.event]) continue
    const d = HOOKS[line.event]!.decode(line, sockets)
    if (!d) throw new Error(`undecodable: ${raw}`)
    out.push(d)
  }
  return out
}

for (const kernel of ['5.10', '6.1']) {
  t.test(`${kernel}: SYN retransmits, IPv4 from sock_common, IPv6 unresolved without a join`, async (t) => {
    const d = decodeAll(fixture(kernel, 'trace_pipe-kprobe-syn.txt'), null)
    t.equal(d.length, 2)
    t.match(d[0], { unresolved: false, event: { kind: 'tcp-retransmit', family: 4, laddr: '198.18.0.1', raddr: '198.18.0.2', rport: 9000, state: 'SYN_SENT' } })
    t.ok(d[0]!.event.lport > 1024)
    t.ok(d[0]!.event.sockId?.startsWith('0xffff'))
    // Native IPv6: sock_common holds 0 / 127.0.0.6 — addresses only from /proc/net/tcp6.
    t.match(d[1], { unresolved: true, event: { family: 6, laddr: '-', raddr: '-', rport: 9000, state: 'SYN_SENT' } })
  })

  t.test(`${kernel}: SYN-ACK retransmits from the request socket (%si), joined with /proc/net/tcp6`, async (t) => {
    const text = fixture(kernel, 'trace_pipe-kprobe-synack.txt')
    const sockets = tableOf(fixture(kernel, 'proc-net-tcp6-kptr1-after-synack-srv.txt'))
    const syn = decodeAll(text, sockets).filter((x) => x.event.kind === 'tcp-synack-retransmit')
    t.equal(syn.length, 6, '2 per connection, 3 connections')
    t.ok(syn.every((x) => !x.unresolved && x.event.state === 'SYN_RECV'))
    t.equal(syn.filter((x) => x.event.family === 4 && x.event.lport === 9002).length, 2, 'IPv4-only listener')
    t.equal(syn.filter((x) => x.event.family === 4 && x.event.lport === 9004 && x.event.laddr === '198.18.0.2').length, 2, 'IPv4 client of the :: listener')
    t.equal(syn.filter((x) => x.event.family === 6 && x.event.laddr === 'fd00::2' && x.event.raddr === 'fd00::1').length, 2, 'IPv6 client, from the join')
    // Without the join the v4-mapped requests still resolve from sock_common.
    const alone = decodeAll(text, null).filter((x) => x.event.kind === 'tcp-synack-retransmit')
    t.equal(alone.filter((x) => x.unresolved).length, 2, 'only the native IPv6 requests stay unresolved')
    t.same(
      alone.filter((x) => !x.unresolved).map((x) => x.event.raddr),
      syn.filter((x) => x.event.family === 4).map((x) => x.event.raddr),
      'same addresses either way',
    )
  })

  t.test(`${kernel}: bulk flow, loss probes as tcp-loss-probe events`, async (t) => {
    const d = decodeAll(fixture(kernel, 'trace_pipe-kprobe-bulk.txt'), null)
    const tlp = d.filter((x) => x.event.kind === 'tcp-loss-probe')
    const rtx = d.filter((x) => x.event.kind === 'tcp-retransmit')
    t.ok(tlp.length >= 3 && rtx.length >= 20, `${rtx.length} retransmits, ${tlp.length} loss probes`)
    t.ok(tlp.every((x) => x.event.state === 'ESTABLISHED' && x.event.rport === 9001))
    t.ok(rtx.filter((x) => x.event.family === 4).every((x) => x.event.laddr === '198.18.0.1' && x.event.raddr === '198.18.0.2'))
  })

  t.test(`${kernel}: kprobe events with stacks (first frame is the probed function)`, async (t) => {
    const lines = fixture(kernel, 'trace_pipe-kprobe-stack.txt').split('\n').map(parseTraceLine)
    const i = lines.findIndex((l) => l?.type === 'event' && l.event === 'fxk_rtx')
    t.equal(lines[i + 1]?.type, 'stack-start')
    t.match(lines[i + 2], { type: 'frame', frame: /^tcp_retransmit_skb\+0x/ })
  })
}

t.test('garbage and foreign lines', async (t) => {
  const line = parseTraceLine('          <idle>-0       [000] ..s.    40.585052: fxk_rtx: (tcp_retransmit_skb+0x0/0xc0) sk=0xffff88805e076040 family=7')
  if (line?.type !== 'event') throw new Error('not an event')
  t.equal(tcpRetransmitKprobe.decode(line, null), null)
})
