// tcpdrop's tcp_drop kprobe (ftrace) on lines captured in the 5.10-legacy
// guest (test/fixtures/kernel-5.10-legacy, capture.sh.txt there): the
// definition the guest accepted, decoding in segment direction, flags from the
// skb, the caller as LOCATION; the offsets it assumes, checked against BTF.
import t from 'tap'
import { checkSkbFlagsLayout } from '../../ftrace/hooks/skb-flags-args.js'
import { netU16FromPort } from '../../ftrace/hooks/sock-common-args.js'
import { tcpDropKprobe } from '../../ftrace/hooks/tcp-drop-kprobe.js'
import { kprobeDefinitionLine } from '../../ftrace/kprobe-events.js'
import { parseTraceLine } from '../../ftrace/trace-line.js'
import type { TcpDropEvent } from '../../lib/events.js'
import type { StructMembers } from '../../lib/kernel/btf.js'
import { fixture } from '../lib/fixtures.js'
import { kindRequest, testRequest, withRules } from '../lib/request.js'

const K = '5.10-legacy'
/** The layout the guest has: no BTF (offsets assumed), IPv6. */
const legacy = { source: 'assumed' as const, netns: null, v6: true }

function drops(name: string): TcpDropEvent[] {
  const out: TcpDropEvent[] = []
  for (const raw of fixture(K, name).split('\n')) {
    const line = parseTraceLine(raw)
    if (line?.type !== 'event' || line.event !== 'fxk_drop') continue
    const d = tcpDropKprobe.decode(line)
    if (!d) throw new Error(`undecodable: ${raw}`)
    out.push(d.event as TcpDropEvent)
  }
  return out
}

t.test('the definition is the one the 5.10-legacy guest accepted', async (t) => {
  const line = kprobeDefinitionLine({ event: 'fxk_drop', symbol: 'tcp_drop', args: tcpDropKprobe.args(legacy) })
  t.equal(line, fixture(K, 'kprobe_events-capture.txt').split('\n').find((l) => l.includes(' tcp_drop ')))
  t.match(line, / skb=%si:x64 tcpflags=\+52\(%si\):u8 caller=\+0\(\$stack\):symbol$/)
})

t.test('connects refused by a closed port on 127.0.0.1: CLOSE, RST|ACK, caller tcp_rcv_state_process', async (t) => {
  const d = drops('trace_pipe-kprobe-closed-stack.txt')
  t.equal(d.length, 5)
  for (const e of d) {
    // Segment direction: the RST came from the peer's port 8198; the socket,
    // already closed, has lost its own port (skc_num 0).
    t.match(e, { kind: 'tcp-drop', family: 4, saddr: '127.0.0.1', sport: 8198, daddr: '127.0.0.1', dport: 0, state: 'CLOSE', reason: null, reasonCode: null })
    t.same(e.tcpflags, ['RST', 'ACK'])
    t.equal(e.location, 'tcp_rcv_state_process+0xb9')
    t.match(e.skbId, /^0xffff/)
  }
})

t.test('zero-window overruns, IPv4 (on a dual-stack socket) and IPv6: ESTABLISHED, ACK, data-path callers', async (t) => {
  // The flows end with the sender's RST meeting a full receiver: those drops are CLOSE, RST|ACK.
  const all = drops('trace_pipe-kprobe-zerowin.txt')
  const d = all.filter((e) => e.state === 'ESTABLISHED')
  t.equal(all.length - d.length, 2, 'one RST drop per flow at the end')
  const v4 = d.filter((e) => e.family === 4)
  const v6 = d.filter((e) => e.family === 6)
  t.ok(v4.length > 0 && v6.length > 0, `${v4.length} IPv4 and ${v6.length} IPv6 drops`)
  t.ok(v4.every((e) => e.saddr === '198.18.0.1' && e.daddr === '198.18.0.2' && e.dport === 9003))
  t.ok(v6.every((e) => e.saddr === 'fd00::1' && e.daddr === 'fd00::2' && e.dport === 9003), 'IPv6 addresses from skc_v6_*')
  t.ok(d.every((e) => e.state === 'ESTABLISHED' && e.tcpflags?.includes('ACK')))
  t.ok(d.every((e) => /^tcp_(data_queue|validate_incoming)\+0x[0-9a-f]+$/.test(e.location ?? '')), [...new Set(d.map((e) => e.location))].join(', '))
})

t.test('plan: no --owner, no --reason; kernel filter on ports (both byte orders)', async (t) => {
  const run = testRequest({ tool: 'tcpdrop' })
  const plain = kindRequest('tcp-drop')
  const plan = tcpDropKprobe.plan(plain, { layout: legacy })
  t.ok(plan.usable)
  t.match(plan.cannotSee.join('; '), /drops that do not go through tcp_drop\(\)/)
  t.equal(plan.filters.reason, 'none')
  const owner = kindRequest('tcp-drop', { options: { owner: true } })
  t.match(tcpDropKprobe.plan(owner, { layout: legacy }), { usable: false, reason: /^--owner: / })
  const reasons = testRequest({ tool: 'tcpdrop' }, { reasons: ['NO_SOCKET'] })
  t.match(withRules(plan, plain, reasons, 'kprobe tcp_drop'), { usable: false, reason: /--reason cannot be applied/ })
  t.equal(tcpDropKprobe.kernelFilter(testRequest({}, { ports: [9003] }), legacy), `(lport == 9003 || dport == ${netU16FromPort(9003)})`)
  t.equal(tcpDropKprobe.kernelFilter(run, legacy), '')
})

t.test('skb flags offsets are checked against BTF', async (t) => {
  const members = (over: Record<string, { offset: number; size: number } | null>) =>
    ({
      member: (s: string, m: string) => {
        const key = `${s}.${m}`
        if (key in over) return over[key]
        return ({ 'sk_buff.cb': { offset: 40, size: 48 }, 'tcp_skb_cb.tcp_flags': { offset: 12, size: 1 } } as Record<string, { offset: number; size: number }>)[key] ?? null
      },
    }) as StructMembers
  t.same(checkSkbFlagsLayout(null), { ok: true, source: 'assumed' })
  t.same(checkSkbFlagsLayout(members({})), { ok: true, source: 'btf' })
  t.same(checkSkbFlagsLayout(members({ 'tcp_skb_cb.tcp_flags': { offset: 12, size: 2 } })), { ok: true, source: 'btf' }, 'a u16 since AccECN: the low byte has the flags')
  t.match(checkSkbFlagsLayout(members({ 'sk_buff.cb': { offset: 48, size: 48 } })), { ok: false, reason: /sk_buff\.cb at \+48, expected \+40/ })
  t.match(checkSkbFlagsLayout(members({ 'tcp_skb_cb.tcp_flags': null })), { ok: false, reason: /tcp_skb_cb\.tcp_flags missing/ })
})
