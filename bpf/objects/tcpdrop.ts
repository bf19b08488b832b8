// tcpdrop.bpf.o: tp_btf kfree_skb with 2, 3 or 4 arguments (reason since 5.17,
// rx_sk since 6.11), chosen from the kernel's BTF; and, on kernels whose
// tcp_drop() frees data-path drops without the tracepoint (before 5.18), a
// kprobe on tcp_drop() where it is out of line.
import type { KindOptions, KindRequest, TcpDropEvent } from '../../lib/events.js'
import { TCP_DATA_PATH_COUNTERS } from '../../lib/kernel/tcp-drop-counters.js'
import { tcpFlagNames } from '../../lib/kernel/tcp-flags.js'
import { tcpStateName } from '../../lib/kernel/tcp-states.js'
import { addrAt, cString, DROP_EVENT, DROP_FLAG, encodeTcpdropConfig, RODATA } from '../event-abi.js'
import { decodeStack, kernelFilterPlaces } from './common.js'
import type { SocketOwner } from '../../lib/kernel/socket-owners.js'
import type { KernelFeatures } from '../kernel-features.js'
import { kfreeSkbPlan, kfreeSkbProgram, kfreeSkbPrograms, unusableBpfPlan, type BpfObjectDef, type DecodeEnv } from './object-def.js'

const F = DROP_EVENT.fields
const PROGRAM_PREFIX = 'kfree_skb'
const TCP_DROP_PROGRAM = 'tcp_drop'
const NOT_THROUGH_TCP_DROP = 'drops that do not go through tcp_drop() (SYNs to closed ports, netfilter drops)'

/** --owner: tracepoints in process context that tell which process uses a
 *  socket (the sock_*_length pair since 6.5, tcp_rcv_space_adjust since 4.16),
 *  and the one that forgets a closed socket. Without them (or for a socket
 *  never read or written, like a listener) the owner comes from /proc. */
const OWNER_PROGRAMS: Array<[tracepoint: string, program: string]> = [
  ['sock_recv_length', 'owner_recv'],
  ['sock_send_length', 'owner_send'],
  ['tcp_rcv_space_adjust', 'owner_rcv_space'],
  ['inet_sock_set_state', 'owner_forget'],
]

function ownerPrograms(features: KernelFeatures): string[] {
  const has = (tp: string) => features.tracepointArgs(tp) !== null
  return OWNER_PROGRAMS.filter(([tp, program]) => has(tp) && !(program === 'owner_rcv_space' && has('sock_recv_length'))).map(([, program]) => program)
}

function dropOptions(requests: readonly KindRequest[]): KindOptions['tcp-drop'] {
  const r = requests.find((k) => k.kind === 'tcp-drop')
  return r && r.kind === 'tcp-drop' ? r.options : { stack: null, owner: false, hideNotSpecified: false }
}

export const tcpdropObject: BpfObjectDef = {
  file: 'tcpdrop.bpf.o',
  allPrograms: [...kfreeSkbPrograms(PROGRAM_PREFIX), TCP_DROP_PROGRAM, ...OWNER_PROGRAMS.map(([, program]) => program)],
  rodata: RODATA.tcpdrop,
  plan(request, features, run) {
    const { kind } = request
    const tp = kfreeSkbProgram(features, PROGRAM_PREFIX)
    const hasReason = tp !== null && tp.args >= 3
    // Data-path drops bypass the tracepoint where the kernel's reason table
    // lacks the TCP data-path reasons (tcp_drop() before 5.18): detected, not versioned.
    const dataPathUnseen = !hasReason || features.dropReasons().code('TCP_OFOMERGE') === null
    const kprobe = dataPathUnseen && run.hookType !== 'tracepoint' ? features.kprobeTarget('tcp_drop') : null
    const fields = ['pid', 'comm', 'family', 'saddr', 'sport', 'daddr', 'dport', 'state', 'tcpflags', 'location', 'netns', 'ifindex', 'dev', 'stack', 'owner']
    const owners = dropOptions([request]).owner ? ownerPrograms(features) : []
    if (run.hookType === 'kprobe') {
      if (!dataPathUnseen) return unusableBpfPlan(kind, '--hook-type kprobe: this kernel drops TCP segments through skb:kfree_skb only (tcp_drop() is gone since 5.18)')
      if (!kprobe?.usable) return unusableBpfPlan(kind, `kprobe tcp_drop: ${kprobe?.reason}`)
      return {
        kind,
        usable: true,
        reason: null,
        hookType: 'kprobe',
        hook: 'kprobe tcp_drop',
        fields,
        filters: { ...kernelFilterPlaces(run, ['family', 'port', 'addr', 'netns']), reason: 'none' },
        cannotSee: [NOT_THROUGH_TCP_DROP, 'drop reasons (tcp_drop() has none)'],
        programs: [TCP_DROP_PROGRAM, ...owners],
      }
    }
    if (!tp) return unusableBpfPlan(kind, 'tracepoint skb:kfree_skb not in the kernel BTF')
    const cannotSee: string[] = []
    if (hasReason) fields.push('reason')
    else cannotSee.push('drop reasons (skb:kfree_skb has none before 5.17)')
    if (tp.args < 4) cannotSee.push('the receiving socket of inbound drops without skb->sk (rx_sk arrived in 6.11): their STATE prints -')
    const programs = [tp.program, ...owners]
    if (kprobe?.usable) programs.push(TCP_DROP_PROGRAM)
    else if (dataPathUnseen) cannotSee.push(`TCP data-path drops that do not go through kfree_skb_reason() (tcp_drop() before 5.18)${kprobe ? `; kprobe tcp_drop: ${kprobe.reason}` : ''}`)
    const filters = kernelFilterPlaces(run, ['family', 'port', 'addr', 'netns', 'reason'])
    if (!hasReason) filters.reason = 'none'
    const plan = kfreeSkbPlan(kind, { fields, filters, cannotSee, reasons: () => features.dropReasons(), programs })
    if (kprobe?.usable) return { ...plan, hook: 'tracepoint skb:kfree_skb + kprobe tcp_drop' }
    return dataPathUnseen ? { ...plan, unseenCounters: TCP_DATA_PATH_COUNTERS } : plan
  },
  config(requests, features) {
    const o = dropOptions(requests)
    const values = {
      wantStack: o.stack !== null,
      stackRate: o.stack?.rate ?? 0,
      hideNotSpecified: o.hideNotSpecified,
      notSpecifiedCode: o.hideNotSpecified ? (features.dropReasons().code('NOT_SPECIFIED') ?? 0xffffffff) : 0xffffffff,
      wantOwner: o.owner,
    }
    return (dv, at) => encodeTcpdropConfig(dv, at, values)
  },
  decoder(requests, env) {
    const o = dropOptions(requests)
    const depth = o.stack?.depth ?? 0
    return (dv) => {
      const flags = dv.getUint8(F.flags)
      const saddr = addrAt(dv, F.saddr)
      const daddr = addrAt(dv, F.daddr)
      const hasReason = (flags & DROP_FLAG.hasReason) !== 0
      const reasonCode = dv.getUint32(F.reason, true)
      const stackBytes = dv.getUint32(F.stack_bytes, true)
      let stack: TcpDropEvent['stack'] = null
      if (flags & DROP_FLAG.stackNotSampled) stack = 'not-sampled'
      else if (stackBytes > 0) stack = decodeStack(dv, F.stack, stackBytes, env, depth)
      const ifindex = dv.getInt32(F.ifindex, true)
      const e: TcpDropEvent = {
        kind: 'tcp-drop',
        tsNs: dv.getBigUint64(F.ts_ns, true),
        pid: dv.getUint32(F.pid, true),
        comm: cString(dv, F.comm, 16),
        family: saddr.family,
        saddr: saddr.text,
        sport: dv.getUint16(F.sport, true),
        daddr: daddr.text,
        dport: dv.getUint16(F.dport, true),
        state: flags & DROP_FLAG.hasSocket ? tcpStateName(dv.getUint8(F.state)) : null,
        tcpflags: flags & DROP_FLAG.hasTcpHeader ? tcpFlagNames(dv.getUint8(F.tcpflags)) : null,
        reason: hasReason ? env.dropReasons().name(reasonCode) : null,
        reasonCode: hasReason ? reasonCode : null,
        location: env.symbolize(dv.getBigUint64(F.location, true)),
        netns: dv.getUint32(F.netns, true) || null,
        ifindex: ifindex > 0 ? ifindex : null,
        dev: cString(dv, F.dev, 16) || null,
        stack,
        owner: o.owner ? ownerOf(dv, env) : null,
        skbId: dv.getBigUint64(F.skb, true).toString(16),
      }
      return e
    }
  },
  suppressedLabel(reason, location, env) {
    const where = env.kallsyms()?.symbolize(location) ?? `0x${location.toString(16)}`
    return `${env.dropReasons().name(reason)} at ${where}`
  },
  warm(requests, env) {
    if (dropOptions(requests).owner) env.warmOwners()
  },
}

/** The kernel's answer when it had one, else the socket inode's owner in /proc. */
function ownerOf(dv: DataView, env: DecodeEnv): SocketOwner | null {
  const tgid = dv.getUint32(F.owner_tgid, true)
  if (tgid !== 0) return { pid: tgid, comm: cString(dv, F.owner_comm, 16) }
  return env.socketOwner(Number(dv.getBigUint64(F.sock_ino, true)))
}
