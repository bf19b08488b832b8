// tcpdrop on kernels that keep tcp_drop(struct sock *sk, struct sk_buff *skb)
// out of line (4.10–5.8 era: RHEL 8, Debian 10, Ubuntu 18.04/20.04, Amazon
// Linux 2) and have no rx_sk in skb:kfree_skb: a kprobe on tcp_drop, as bcc's
// tcpdrop had. The tuple, family and state come from the socket's struct
// sock_common (IPv6 too), the flags from the skb's control block, LOCATION is
// the caller (the return address at entry). Printed in segment direction: the
// socket's peer sent the dropped segment.
import type { TcpDropEvent } from '../../lib/events.js'
import type { FilterName, FilterPlace } from '../../lib/filters.js'
import { commOfPid } from '../../lib/kernel/comm.js'
import { cleanFrame } from '../../lib/kernel/stack-frames.js'
import { tcpFlagNames } from '../../lib/kernel/tcp-flags.js'
import { tcpStateName } from '../../lib/kernel/tcp-states.js'
import { parseKeyValues } from '../trace-line.js'
import type { KprobeHook } from './kprobe-hook.js'
import { runningSkbFlagsLayout, skbFlagsArgs } from './skb-flags-args.js'
import { netU16FromPort, sockCommonArgs, sockFlow, type SockCommonLayout } from './sock-common-args.js'

/** What this hook cannot see: drops that do not go through tcp_drop(). */
export const TCP_DROP_KPROBE_BLIND = [
  'drops that do not go through tcp_drop(): segments with no socket (SYNs to closed ports, drops before the socket lookup), netfilter and other kfree_skb drops',
  'drop reasons (REASON prints -: the kernel has none before 5.17)',
]

function filterPlaces(layout: SockCommonLayout): Partial<Record<FilterName, FilterPlace>> {
  return { port: 'kernel', family: 'user', addr: 'user', netns: layout.netns ? 'kernel' : 'none', reason: 'none' }
}

export const tcpDropKprobe: KprobeHook<'tcp-drop'> = {
  symbol: 'tcp_drop',
  suffix: 'drop',
  plan(request, { layout }) {
    const fields = ['pid', 'comm', 'family', 'saddr', 'sport', 'daddr', 'dport', 'state', 'tcpflags', 'location', 'stack']
    if (layout.netns) fields.push('netns')
    const cannotSee = [...TCP_DROP_KPROBE_BLIND]
    if (!layout.v6) cannotSee.push("IPv6 addresses (no skc_v6_* in this kernel's struct sock_common)")
    const flags = runningSkbFlagsLayout()
    let reason: string | null = null
    if (!flags.ok) reason = `kprobe tcp_drop: ${flags.reason}`
    else if (request.options.owner) reason = '--owner: the tcp_drop kprobe has no socket inode (use the bpf backend)'
    return { usable: reason === null, reason, fields, filters: filterPlaces(layout), cannotSee }
  },
  args: (layout) => [...sockCommonArgs('%di', layout), ...skbFlagsArgs('%si'), 'caller=+0($stack):symbol'],
  kernelFilter(run, layout) {
    const parts: string[] = []
    // skc_num is host order, skc_dport network order (as read, little endian).
    if (run.filters.ports.length > 0) parts.push('(' + run.filters.ports.map((p) => `lport == ${p} || dport == ${netU16FromPort(p)}`).join(' || ') + ')')
    if (run.filters.netns !== null && layout.netns) parts.push(`netns == ${run.filters.netns}`)
    return parts.join(' && ')
  },
  decode(line) {
    const kv = parseKeyValues(line.body)
    const flow = sockFlow(kv)
    const flags = Number(kv.get('tcpflags'))
    if (!flow || !Number.isInteger(flags)) return null
    const netns = Number(kv.get('netns') ?? NaN)
    const caller = kv.get('caller')
    const event: TcpDropEvent = {
      kind: 'tcp-drop',
      tsNs: line.tsNs,
      pid: line.pid,
      comm: line.comm === '<...>' ? commOfPid(line.pid) : line.comm,
      family: flow.family,
      // The socket's peer sent the dropped segment.
      saddr: flow.raddr,
      sport: flow.rport,
      daddr: flow.laddr,
      dport: flow.lport,
      state: tcpStateName(flow.state),
      tcpflags: tcpFlagNames(flags),
      reason: null,
      reasonCode: null,
      location: caller ? cleanFrame(caller) : null,
      netns: Number.isFinite(netns) ? netns : null,
      ifindex: null,
      dev: null,
      stack: null,
      owner: null,
      skbId: kv.get('skb') ?? null,
    }
    return { event, unresolved: !flow.resolved }
  },
}
