import t from 'tap'
import { parseFormat } from '../../ftrace/format.js'
import { tcpRetransmitSkb, tcpRetransmitSynack } from '../../ftrace/hooks/tcp-retransmit.js'
import { parseTraceLine } from '../../ftrace/trace-line.js'
import type { EventFormat } from '../../ftrace/format.js'
import type { RetransmitEvent } from '../../lib/events.js'
import { fixture } from '../lib/fixtures.js'
import { kindRequest, testRequest, withRules } from '../lib/request.js'

const skbFormat = parseFormat(fixture('6.18', 'tcp__tcp_retransmit_skb.format'))
const synFormat = parseFormat(fixture('6.18', 'tcp__tcp_retransmit_synack.format'))
const rtx = (includeFailed = false) => kindRequest('tcp-retransmit', { options: { includeFailed } })

/** The hook's run for one request (what the backend opens at start). */
function skbRun(format: EventFormat = skbFormat, request = rtx(), run = testRequest()) {
  return tcpRetransmitSkb.plan(format, request, run).open()
}
const synackRun = (run = testRequest()) => tcpRetransmitSynack.plan(synFormat, kindRequest('tcp-synack-retransmit'), run).open()

function decode(hook: typeof tcpRetransmitSkb | typeof tcpRetransmitSynack, text: string, includeFailed = false) {
  const line = parseTraceLine(text)
  if (!line || line.type !== 'event') throw new Error('not an event line')
  const run = hook === tcpRetransmitSkb ? skbRun(skbFormat, rtx(includeFailed)) : synackRun()
  return run.decode(line) as RetransmitEvent | null
}

t.test('IPv4 retransmit on a 6.18 kernel', async (t) => {
  const e = decode(
    tcpRetransmitSkb,
    '          iperf3-3153    [001] ..s2.   126.905326: tcp_retransmit_skb: skbaddr=000000006dc7024c skaddr=00000000ea352048 family=AF_INET sport=49950 dport=5201 saddr=198.18.0.1 daddr=198.18.0.2 saddrv6=::ffff:198.18.0.1 daddrv6=::ffff:198.18.0.2 state=TCP_ESTABLISHED err=0',
  )
  t.match(e, { kind: 'tcp-retransmit', pid: 3153, comm: 'iperf3', family: 4, laddr: '198.18.0.1', lport: 49950, raddr: '198.18.0.2', rport: 5201, state: 'ESTABLISHED', err: 0, netns: null, seq: null })
  t.equal(e?.tsNs, 126_905_326_000n)
})

t.test('IPv6 retransmit: addresses from saddrv6, compressed', async (t) => {
  const e = decode(
    tcpRetransmitSkb,
    '          iperf3-3161    [001] .....   131.474225: tcp_retransmit_skb: skbaddr=000000007c89cd33 skaddr=0000000093a83506 family=AF_INET6 sport=41156 dport=5201 saddr=0.0.0.0 daddr=0.0.0.0 saddrv6=fd00::1 daddrv6=fd00::2 state=TCP_ESTABLISHED err=0',
  )
  t.match(e, { family: 6, laddr: 'fd00::1', raddr: 'fd00::2', lport: 41156 })
})

t.test('failed attempts (err != 0) only with --err', async (t) => {
  const line =
    '          iperf3-3153    [000] ..s2.   126.925522: tcp_retransmit_skb: skbaddr=00000000cdbf62f8 skaddr=00000000ea352048 family=AF_INET sport=49950 dport=5201 saddr=198.18.0.1 daddr=198.18.0.2 saddrv6=::ffff:198.18.0.1 daddrv6=::ffff:198.18.0.2 state=TCP_ESTABLISHED err=-16'
  t.equal(decode(tcpRetransmitSkb, line), null)
  t.match(decode(tcpRetransmitSkb, line, true), { err: -16 })
})

t.test('SYN-ACK on a dual-stack listener: wire family 4 from the v4-mapped address', async (t) => {
  const e = decode(
    tcpRetransmitSynack,
    '          <idle>-0       [000] ..s1.   143.636120: tcp_retransmit_synack: family=AF_INET6 sport=9002 dport=39462 saddr=198.18.0.2 daddr=198.18.0.1 saddrv6=::ffff:198.18.0.2 daddrv6=::ffff:198.18.0.1',
  )
  t.match(e, { kind: 'tcp-synack-retransmit', family: 4, laddr: '198.18.0.2', lport: 9002, raddr: '198.18.0.1', rport: 39462, state: 'SYN_RECV', comm: '<idle>' })
  const v6 = decode(
    tcpRetransmitSynack,
    '          <idle>-0       [001] ..s1.   145.652110: tcp_retransmit_synack: family=AF_INET6 sport=9002 dport=51778 saddr=127.0.0.6 daddr=127.0.0.6 saddrv6=fd00::2 daddrv6=fd00::1',
  )
  t.match(v6, { family: 6, laddr: 'fd00::2', raddr: 'fd00::1' }, 'the junk IPv4 fields of an IPv6 flow are ignored')
})

t.test('kernel filters: err == 0 by default on 6.17+, ports on both sides', async (t) => {
  t.equal(skbRun().kernelFilter, 'err == 0')
  t.equal(skbRun(skbFormat, rtx(true)).kernelFilter, '')
  t.equal(skbRun(skbFormat, rtx(), testRequest({}, { ports: [80, 443] })).kernelFilter, 'err == 0 && (sport == 80 || dport == 80 || sport == 443 || dport == 443)')
  t.equal(synackRun(testRequest({}, { ports: [9] })).kernelFilter, '(sport == 9 || dport == 9)')
})

t.test('plans: what the hook fills and cannot do', async (t) => {
  const planned = (format: EventFormat, request = rtx(), run = testRequest()) => withRules(tcpRetransmitSkb.plan(format, request, run).info, request, run, 'tracepoint tcp:tcp_retransmit_skb')
  const plan = planned(skbFormat)
  t.ok(plan.usable)
  t.ok(plan.fields.includes('err'))
  t.equal(plan.filters.port, 'kernel')
  t.equal(plan.filters.family, 'user')
  t.match(planned(skbFormat, kindRequest('tcp-retransmit', { fields: { seq: '--seq' } })), { usable: false, reason: /^--seq: tcp:tcp_retransmit_skb has no sequence-number field/ })
  t.match(planned(skbFormat, rtx(), testRequest({}, { netns: 1 })), { usable: false, reason: /--netns/ })
  // An older layout without `err` (as in kernels before 6.17): --err cannot be served.
  const noErr = parseFormat(fixture('6.18', 'tcp__tcp_retransmit_skb.format').replace(/^\s*field:int err;.*$/m, ''))
  const withErr = kindRequest('tcp-retransmit', { options: { includeFailed: true }, fields: { err: '--err' } })
  t.match(planned(noErr, withErr), { usable: false, reason: /^--err: .*\(added in 6\.17\)/ })
  t.equal(skbRun(noErr).kernelFilter, '', 'no err filter where there is no err field')
})

t.test('older layouts captured on real kernels decode the same way', async (t) => {
  for (const k of ['5.10', '6.1']) {
    const fmt = parseFormat(fixture(k, 'tcp__tcp_retransmit_skb.format'))
    t.notOk(fmt.fields.some((f) => f.name === 'err'), `${k}: no err field`)
    const run = skbRun(fmt)
    t.equal(run.kernelFilter, '', `${k}: no err filter`)
    const lines = fixture(k, 'trace_pipe-bulk.txt')
      .split('\n')
      .map((l) => parseTraceLine(l))
      .filter((l) => l?.type === 'event' && l.event === 'tcp_retransmit_skb')
    t.ok(lines.length > 5, `${k}: ${lines.length} retransmit lines`)
    let v4 = 0
    let v6 = 0
    for (const l of lines) {
      if (l?.type !== 'event') continue
      const e = run.decode(l) as RetransmitEvent | null
      if (!e) {
        t.fail(`${k}: could not decode ${l.body}`)
        continue
      }
      if (e.family === 4) v4++
      else v6++
      t.ok(e.lport > 0 && e.rport > 0 && e.state !== null, `${k}: ${e.laddr}:${e.lport} > ${e.raddr}:${e.rport} ${e.state}`)
    }
    t.ok(v4 > 0 && v6 > 0, `${k}: both families (${v4} IPv4, ${v6} IPv6) without relying on a family field`)
  }
  const fmt510 = parseFormat(fixture('5.10', 'tcp__tcp_retransmit_skb.format'))
  t.notOk(fmt510.fields.some((f) => f.name === 'family'), '5.10 has no family field')
})
