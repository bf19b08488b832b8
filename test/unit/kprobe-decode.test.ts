// kprobe trace lines captured in 5.10 and 6.1 guests (test/fixtures/kernel-*/
// trace_pipe-kprobe-*.txt, probes named fxk_*) through the tcpretrans kprobe hooks.
import t from 'tap'
import type { KprobeHook } from '../../ftrace/hooks/kprobe-hook.js'
import { tcpLossProbeKprobe, tcpRetransmitKprobe, tcpRtxSynackKprobe } from '../../ftrace/hooks/tcp-retransmit-kprobe.js'
import { parseTraceLine } from '../../ftrace/trace-line.js'
import type { RetransmitEvent } from '../../lib/events.js'
import { fixture } from '../lib/fixtures.js'

const HOOKS: Record<string, KprobeHook> = { fxk_rtx: tcpRetransmitKprobe, fxk_synack: tcpRtxSynackKprobe, fxk_tlp: tcpLossProbeKprobe }

function decodeAll(text: string) {
  const out: Array<{ event: RetransmitEvent; unresolved: boolean }> = []
  for (const raw of text.split('\n')) {
    const line = parseTraceLine(raw)
    if (line?.type !== 'event' || !HOOKS[line.event]) continue
    const d = HOOKS[line.event]!.decode(line)
    if (!d) throw new Error(`undecodable: ${raw}`)
    out.push({ event: d.event as RetransmitEvent, unresolved: d.unresolved })
  }
  return out
}

for (const kernel of ['5.10', '6.1']) {
  t.test(`${kernel}: SYN retransmits, IPv4 from sock_common, IPv6 unresolved without its address words`, async (t) => {
    const d = decodeAll(fixture(kernel, 'trace_pipe-kprobe-syn.txt'))
    t.equal(d.length, 2)
    t.match(d[0], { unresolved: false, event: { kind: 'tcp-retransmit', family: 4, laddr: '198.18.0.1', raddr: '198.18.0.2', rport: 9000, state: 'SYN_SENT' } })
    t.ok(d[0]!.event.lport > 1024)
    t.ok(d[0]!.event.sockId?.startsWith('0xffff'))
    // Native IPv6 in a capture without the skc_v6_* words: sock_common's IPv4 fields hold 0 / 127.0.0.6.
    t.match(d[1], { unresolved: true, event: { family: 6, laddr: '-', raddr: '-', rport: 9000, state: 'SYN_SENT' } })
  })

  t.test(`${kernel}: SYN-ACK retransmits from the request socket (%si); v4-mapped requests from sock_common`, async (t) => {
    const syn = decodeAll(fixture(kernel, 'trace_pipe-kprobe-synack.txt')).filter((x) => x.event.kind === 'tcp-synack-retransmit')
    t.equal(syn.length, 6, '2 per connection, 3 connections')
    t.ok(syn.every((x) => x.event.state === 'SYN_RECV'))
    t.equal(syn.filter((x) => !x.unresolved && x.event.family === 4 && x.event.lport === 9002).length, 2, 'IPv4-only listener')
    t.equal(syn.filter((x) => !x.unresolved && x.event.family === 4 && x.event.lport === 9004 && x.event.laddr === '198.18.0.2').length, 2, 'IPv4 client of the :: listener')
    t.equal(syn.filter((x) => x.unresolved).length, 2, 'only the native IPv6 requests stay unresolved (this capture has no skc_v6_* words)')
  })

  t.test(`${kernel}: bulk flow, loss probes as tcp-loss-probe events`, async (t) => {
    const d = decodeAll(fixture(kernel, 'trace_pipe-kprobe-bulk.txt'))
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
  t.equal(tcpRetransmitKprobe.decode(line), null)
})

t.test('5.10-legacy (skc_v6_* words fetched): IPv6 SYN and SYN-ACK retransmits resolve from sock_common', async (t) => {
  const hooks: Record<string, KprobeHook> = { fxk_rtx: tcpRetransmitKprobe, fxk_synack: tcpRtxSynackKprobe }
  const decode = (name: string) =>
    fixture('5.10-legacy', name)
      .split('\n')
      .map(parseTraceLine)
      .flatMap((l) => (l?.type === 'event' && hooks[l.event] ? [hooks[l.event]!.decode(l)] : []))
  const syn = decode('trace_pipe-kprobe-syn.txt')
  t.equal(syn.length, 4, '2 connects per family, 1 retry each')
  t.ok(syn.every((d) => d !== null && !d.unresolved), 'no socket left unresolved')
  const events = syn.map((d) => d?.event as RetransmitEvent)
  t.same(events.map((e) => `${e.family} ${e.laddr} > ${e.raddr}:${e.rport} ${e.state}`).sort(), [
    '4 198.18.0.1 > 198.18.0.2:9000 SYN_SENT',
    '4 198.18.0.1 > 198.18.0.2:9000 SYN_SENT',
    '6 fd00::1 > fd00::2:9000 SYN_SENT',
    '6 fd00::1 > fd00::2:9000 SYN_SENT',
  ])
  const synack = decode('trace_pipe-kprobe-synack.txt').map((d) => d?.event as RetransmitEvent).filter((e) => e.kind === 'tcp-synack-retransmit')
  t.same([...new Set(synack.map((e) => `${e.family} ${e.laddr}:${e.lport} > ${e.raddr}`))].sort(), ['4 198.18.0.2:9004 > 198.18.0.1', '6 fd00::2:9004 > fd00::1'], 'the :: listener, both families')
})
