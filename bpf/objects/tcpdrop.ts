// tcpdrop.bpf.o: tp_btf kfree_skb with 2, 3 or 4 arguments (reason since 5.17,
// rx_sk since 6.11), chosen from the kernel's BTF.
import type { RunRequest } from '../../lib/backend.js'
import type { TcpDropEvent } from '../../lib/events.js'
import { tcpFlagNames } from '../../lib/kernel/tcp-flags.js'
import { tcpStateName } from '../../lib/kernel/tcp-states.js'
import { userFacingStack } from '../../lib/kernel/stack-frames.js'
import { addrAt, cString, DROP_EVENT, DROP_FLAG, stackAt } from '../event-abi.js'
import { kernelFilterPlaces, symbolizeStack } from './common.js'
import type { SocketOwner } from '../../lib/kernel/socket-owners.js'
import type { KernelFeatures } from '../kernel-features.js'
import { unusablePlan, type BpfObjectDef, type DecodeEnv } from './object-def.js'

const F = DROP_EVENT.fields

const PROGRAM_BY_ARGS: Record<number, string> = { 2: 'kfree_skb2', 3: 'kfree_skb3', 4: 'kfree_skb4' }

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

function reasonFilterProblem(req: RunRequest, known: (name: string) => boolean): string | null {
  const unknown = req.filters.reasons.filter((r) => !known(r))
  return unknown.length ? `--reason ${unknown.join(', ')}: not a drop reason of this kernel` : null
}

export const tcpdropObject: BpfObjectDef = {
  file: 'tcpdrop.bpf.o',
  kinds: ['tcp-drop'],
  allPrograms: [...Object.values(PROGRAM_BY_ARGS), ...OWNER_PROGRAMS.map(([, program]) => program)],
  plan(kind, features, req) {
    if (req.hookType === 'kprobe') return unusablePlan(kind, '--hook-type kprobe: the bpf backend sees drops through skb:kfree_skb only')
    const args = features.tracepointArgs('kfree_skb')
    const program = args === null ? undefined : PROGRAM_BY_ARGS[Math.min(args, 4)]
    if (!program || args === null) return unusablePlan(kind, 'tracepoint skb:kfree_skb not in the kernel BTF')
    const fields = ['pid', 'comm', 'family', 'saddr', 'sport', 'daddr', 'dport', 'state', 'tcpflags', 'location', 'netns', 'ifindex', 'dev', 'stack', 'owner']
    const cannotSee: string[] = []
    if (args >= 3) fields.push('reason')
    else cannotSee.push('drop reasons (skb:kfree_skb has none before 5.17)')
    if (args < 4) cannotSee.push('the receiving socket of inbound drops without skb->sk (rx_sk arrived in 6.11): their STATE prints -')
    cannotSee.push('TCP data-path drops that do not go through kfree_skb_reason() (tcp_drop() before 5.18)')
    const plan = {
      kind,
      usable: true,
      reason: null as string | null,
      hookType: 'tracepoint' as const,
      hook: 'tracepoint skb:kfree_skb',
      fields,
      filters: kernelFilterPlaces(req, ['family', 'port', 'addr', 'netns', 'reason']),
      cannotSee,
      programs: req.owner ? [program, ...ownerPrograms(features)] : [program],
    }
    if (req.filters.reasons.length > 0) {
      if (args < 3) return unusablePlan(kind, '--reason: skb:kfree_skb has no reason on this kernel (before 5.17)')
      const problem = reasonFilterProblem(req, (name) => features.dropReasons().code(name) !== null)
      if (problem) return unusablePlan(kind, problem)
    }
    return plan
  },
  decode(dv, env) {
    const flags = dv.getUint8(F.flags)
    const saddr = addrAt(dv, F.saddr)
    const daddr = addrAt(dv, F.daddr)
    const hasReason = (flags & DROP_FLAG.hasReason) !== 0
    const reasonCode = dv.getUint32(F.reason, true)
    const stackBytes = dv.getUint32(F.stack_bytes, true)
    const location = dv.getBigUint64(F.location, true)
    let stack: TcpDropEvent['stack'] = null
    if (flags & DROP_FLAG.stackNotSampled) stack = 'not-sampled'
    else if (stackBytes > 0) stack = userFacingStack(symbolizeStack(stackAt(dv, F.stack, stackBytes), env), env.req.stackDepth)
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
      location: env.symbolize(location),
      netns: dv.getUint32(F.netns, true) || null,
      ifindex: ifindex > 0 ? ifindex : null,
      dev: cString(dv, F.dev, 16) || null,
      stack,
      owner: env.req.owner ? ownerOf(dv, env) : null,
      skbId: dv.getBigUint64(F.skb, true).toString(16),
    }
    return e
  },
  suppressedLabel(reason, location, env) {
    const where = env.kallsyms()?.symbolize(location) ?? `0x${location.toString(16)}`
    return `${env.dropReasons().name(reason)} at ${where}`
  },
}

/** The kernel's answer when it had one, else the socket inode's owner in /proc. */
function ownerOf(dv: DataView, env: DecodeEnv): SocketOwner | null {
  const tgid = dv.getUint32(F.owner_tgid, true)
  if (tgid !== 0) return { pid: tgid, comm: cString(dv, F.owner_comm, 16) }
  return env.socketOwner(Number(dv.getBigUint64(F.sock_ino, true)))
}
