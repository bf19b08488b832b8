import t from 'tap'
import { checkSockCommonLayout, ipv4FromU32, portFromNetU16, sockCommonArgs } from '../../ftrace/hooks/sock-common-args.js'
import { FTRACE_HOOKS } from '../../ftrace/hooks/registry.js'
import { tcpLossProbeKprobe, tcpRetransmitKprobe, tcpRtxSynackKprobe } from '../../ftrace/hooks/tcp-retransmit-kprobe.js'
import { kprobeDefinitionLine, parseKprobeEventsLine } from '../../ftrace/kprobe-events.js'
import type { StructMembers } from '../../lib/kernel/btf.js'
import { fixture } from '../lib/fixtures.js'
import { kindRequest, testRequest, withRules } from '../lib/request.js'

const assumed = { source: 'assumed' as const, netns: null, v6: false }
const withNetns = { source: 'btf' as const, netns: { skcNet: 48, inum: 144 }, v6: false }
const rtx = kindRequest('tcp-retransmit')

t.test('definition lines match what the guests accepted (kprobe_events-capture.txt)', async (t) => {
  for (const kernel of ['5.10', '6.1']) {
    const captured = fixture(kernel, 'kprobe_events-capture.txt').trim().split('\n')
    for (const [i, hook] of [tcpRetransmitKprobe, tcpLossProbeKprobe].entries()) {
      const line = kprobeDefinitionLine({ event: `fxk_${['rtx', 'tlp'][i]}`, symbol: hook.symbol, args: hook.args(assumed) })
      t.equal(line, captured.find((l) => l.includes(` ${hook.symbol} `)), `${kernel} ${hook.symbol}`)
    }
  }
  t.equal(
    kprobeDefinitionLine({ event: 'netdrop_tcpretrans_42_7_synack', symbol: 'tcp_rtx_synack', args: tcpRtxSynackKprobe.args(withNetns) }),
    'p:kprobes/netdrop_tcpretrans_42_7_synack tcp_rtx_synack req=%si:x64 daddr=+0(%si):u32 saddr=+4(%si):u32 dport=+12(%si):u16 lport=+14(%si):u16 family=+16(%si):u16 state=+18(%si):u8 netns=+144(+48(%si)):u32',
  )
  // With the IPv6 words (the layout of every kernel with IPv6), as the 5.10-legacy guest accepted them.
  const legacy = fixture('5.10-legacy', 'kprobe_events-capture.txt').trim().split('\n')
  for (const [name, hook] of [['fxk_rtx', tcpRetransmitKprobe], ['fxk_synack', tcpRtxSynackKprobe]] as const) {
    t.equal(kprobeDefinitionLine({ event: name, symbol: hook.symbol, args: hook.args({ source: 'assumed', netns: null, v6: true }) }), legacy.find((l) => l.includes(` ${hook.symbol} `)), `5.10-legacy ${hook.symbol}`)
  }
  t.throws(() => kprobeDefinitionLine({ event: 'bad-name', symbol: 'x', args: [] }), /invalid kprobe event name/)
})

t.test('kprobe_events listing → our names', async (t) => {
  t.equal(parseKprobeEventsLine('p:kprobes/netdrop_tcpretrans_42_7_rtx tcp_retransmit_skb sk=%di:x64'), 'netdrop_tcpretrans_42_7_rtx')
  t.equal(parseKprobeEventsLine('p:othergrp/foo tcp_retransmit_skb'), null)
  t.equal(parseKprobeEventsLine(''), null)
})

t.test('kernel filters: ports in both byte orders, netns only with BTF', async (t) => {
  const r = testRequest({ hookType: 'kprobe' }, { ports: [9000], netns: 4026532000 })
  t.equal(tcpRetransmitKprobe.kernelFilter(r, withNetns), '(lport == 9000 || dport == 10275) && netns == 4026532000')
  t.equal(tcpRetransmitKprobe.kernelFilter(r, assumed), '(lport == 9000 || dport == 10275)')
  t.equal(portFromNetU16(10275), 9000)
  t.equal(ipv4FromU32(33559238), '198.18.0.2')
})

t.test('plans: fields, filter places, what the kprobes cannot see', async (t) => {
  const p = tcpRetransmitKprobe.plan(rtx, { layout: withNetns })
  t.ok(p.usable)
  t.ok(p.fields.includes('netns'))
  t.same(p.filters, { port: 'kernel', family: 'user', addr: 'user', netns: 'kernel' })
  t.match(p.cannotSee.join('; '), /TLP retransmits.*__tcp_retransmit_skb/)
  t.match(p.cannotSee.join('; '), /IPv6 addresses \(no skc_v6_\*/)
  t.equal(tcpRetransmitKprobe.plan(rtx, { layout: assumed }).filters.netns, 'none')
  const run = testRequest({ hookType: 'kprobe' })
  const withErr = kindRequest('tcp-retransmit', { options: { includeFailed: true }, fields: { err: '--err' } })
  const errPlan = withRules(tcpRetransmitKprobe.plan(withErr, { layout: assumed }), withErr, run, 'kprobe tcp_retransmit_skb')
  t.match(errPlan, { usable: false, reason: /^--err: kprobe tcp_retransmit_skb has no err field \(it sees the attempt, not its result\)/ })
  const withSeq = kindRequest('tcp-retransmit', { fields: { seq: '--seq' } })
  t.match(withRules(tcpRetransmitKprobe.plan(withSeq, { layout: assumed }), withSeq, run), { usable: false, reason: /--seq/ })
  t.same(
    Object.entries(FTRACE_HOOKS).flatMap(([kind, h]) => (h.kprobe ? [[kind, h.kprobe.symbol, h.kprobe.suffix]] : [])),
    [
      ['tcp-retransmit', 'tcp_retransmit_skb', 'rtx'],
      ['tcp-synack-retransmit', 'tcp_rtx_synack', 'synack'],
      ['tcp-loss-probe', 'tcp_send_loss_probe', 'tlp'],
      ['tcp-drop', 'tcp_drop', 'drop'],
    ],
  )
  t.match(sockCommonArgs('%di', assumed), ['sk=%di:x64'])
})

t.test('sock_common offsets are checked against BTF', async (t) => {
  const fake = (over: Record<string, { offset: number; size: number } | null>) =>
    ({
      member: (s: string, m: string) => {
        if (m in over) return over[m]
        const table: Record<string, { offset: number; size: number }> = {
          'sock_common.skc_daddr': { offset: 0, size: 4 },
          'sock_common.skc_rcv_saddr': { offset: 4, size: 4 },
          'sock_common.skc_dport': { offset: 12, size: 2 },
          'sock_common.skc_num': { offset: 14, size: 2 },
          'sock_common.skc_family': { offset: 16, size: 2 },
          'sock_common.skc_state': { offset: 18, size: 1 },
          'sock_common.skc_net': { offset: 48, size: 8 },
          'net.ns': { offset: 120, size: 24 },
          'ns_common.inum': { offset: 16, size: 4 },
        }
        return table[`${s}.${m}`] ?? null
      },
    }) as StructMembers
  t.same(checkSockCommonLayout(fake({})), { ok: true, layout: { source: 'btf', netns: { skcNet: 48, inum: 136 }, v6: false } }, 'no skc_v6_*: a kernel without IPv6')
  const v6 = { skc_v6_daddr: { offset: 56, size: 16 }, skc_v6_rcv_saddr: { offset: 72, size: 16 } }
  t.match(checkSockCommonLayout(fake(v6)), { ok: true, layout: { v6: true } })
  t.match(checkSockCommonLayout(fake({ ...v6, skc_v6_rcv_saddr: { offset: 80, size: 16 } })), { ok: false, reason: /skc_v6_rcv_saddr at \+80 size 16, expected \+72 size 16/ })
  t.match(checkSockCommonLayout(fake({ skc_num: { offset: 16, size: 2 } })), { ok: false, reason: /skc_num at \+16 size 2, expected \+14 size 2/ })
  t.match(checkSockCommonLayout(fake({ skc_state: null })), { ok: false, reason: /skc_state missing/ })
  t.same(checkSockCommonLayout(null), { ok: true, layout: { source: 'assumed', netns: null, v6: true } }, 'without BTF: the layout since 3.13')
})
