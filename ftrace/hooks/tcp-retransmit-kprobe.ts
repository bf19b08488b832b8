// tcpretrans on kernels without (usable) tracepoints, and loss probes on any
// kernel: kprobes on tcp_retransmit_skb(sk, …), tcp_rtx_synack(listener, req)
// and tcp_send_loss_probe(sk). The tuple (IPv4 and IPv6), family and state
// come from the socket's struct sock_common (SPEC §2, §5).
import type { RetransmitEvent } from '../../lib/events.js'
import type { FilterName, FilterPlace } from '../../lib/filters.js'
import { commOfPid } from '../../lib/kernel/comm.js'
import { tcpStateName } from '../../lib/kernel/tcp-states.js'
import { parseKeyValues } from '../trace-line.js'
import type { KprobeDecoded, KprobeHook, KprobePlanContext } from './kprobe-hook.js'
import { netU16FromPort, sockCommonArgs, sockFlow, type ArgRegister, type SockCommonLayout } from './sock-common-args.js'

interface Spec<K extends RetransmitEvent['kind']> {
  kind: K
  symbol: string
  suffix: string
  /** Register holding the socket whose flow is reported. */
  reg: ArgRegister
  pointerName: string
  /** A fixed state (request sockets are SYN_RECV by definition), else read from the socket. */
  state: string | null
  cannotSee: string[]
}

function filterPlaces(layout: SockCommonLayout): Partial<Record<FilterName, FilterPlace>> {
  return { port: 'kernel', family: 'user', addr: 'user', netns: layout.netns ? 'kernel' : 'none' }
}

function sockKprobe<K extends RetransmitEvent['kind']>(spec: Spec<K>): KprobeHook<K> {
  return {
    symbol: spec.symbol,
    suffix: spec.suffix,
    plan(_request, ctx: KprobePlanContext) {
      const fields = ['pid', 'comm', 'family', 'laddr', 'lport', 'raddr', 'rport', 'state', 'stack']
      if (ctx.layout.netns) fields.push('netns')
      const cannotSee = [...spec.cannotSee]
      if (!ctx.layout.netns) cannotSee.push('network namespace (no BTF to locate it)')
      if (!ctx.layout.v6) cannotSee.push('IPv6 addresses (no skc_v6_* in this kernel\'s struct sock_common)')
      const fieldNotes = { err: '(it sees the attempt, not its result)' }
      return { usable: true, reason: null, fields, filters: filterPlaces(ctx.layout), cannotSee, cannotSeeOf: { seq: 'sequence numbers' }, fieldNotes }
    },
    args: (layout) => sockCommonArgs(spec.reg, layout, spec.pointerName),
    kernelFilter(run, layout) {
      const parts: string[] = []
      // skc_num is host order, skc_dport network order (as read, little endian).
      if (run.filters.ports.length > 0) parts.push('(' + run.filters.ports.map((p) => `lport == ${p} || dport == ${netU16FromPort(p)}`).join(' || ') + ')')
      if (run.filters.netns !== null && layout.netns) parts.push(`netns == ${run.filters.netns}`)
      return parts.join(' && ')
    },
    decode(line): KprobeDecoded | null {
      const kv = parseKeyValues(line.body)
      const flow = sockFlow(kv)
      const pointer = kv.get(spec.pointerName)
      if (!flow || pointer === undefined) return null
      const netns = Number(kv.get('netns') ?? NaN)
      const event: RetransmitEvent = {
        kind: spec.kind,
        tsNs: line.tsNs,
        pid: line.pid,
        comm: line.comm === '<...>' ? commOfPid(line.pid) : line.comm,
        family: flow.family,
        laddr: flow.laddr,
        lport: flow.lport,
        raddr: flow.raddr,
        rport: flow.rport,
        state: spec.state ?? tcpStateName(flow.state),
        netns: Number.isFinite(netns) ? netns : null,
        seq: null,
        err: null,
        segs: null,
        stack: null,
        sockId: pointer,
      }
      return { event, unresolved: !flow.resolved }
    },
  }
}

export const tcpRetransmitKprobe = sockKprobe({
  kind: 'tcp-retransmit',
  symbol: 'tcp_retransmit_skb',
  suffix: 'rtx',
  reg: '%di',
  pointerName: 'sk',
  state: null,
  cannotSee: [
    'whether the retransmit reached the device: every call is counted, failed attempts too',
    'TLP retransmits (tcp_send_loss_probe calls __tcp_retransmit_skb directly)',
  ],
})

export const tcpRtxSynackKprobe = sockKprobe({
  kind: 'tcp-synack-retransmit',
  symbol: 'tcp_rtx_synack',
  suffix: 'synack',
  // tcp_rtx_synack(const struct sock *listener, struct request_sock *req): the
  // request starts with a struct sock_common holding the connection's tuple.
  reg: '%si',
  pointerName: 'req',
  state: 'SYN_RECV',
  cannotSee: ['whether the SYN-ACK reached the device: every call is counted'],
})

export const tcpLossProbeKprobe = sockKprobe({
  kind: 'tcp-loss-probe',
  symbol: 'tcp_send_loss_probe',
  suffix: 'tlp',
  reg: '%di',
  pointerName: 'sk',
  state: null,
  cannotSee: ['whether a probe was sent: every call is counted (the kernel may decide not to probe)'],
})

