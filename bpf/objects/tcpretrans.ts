// tcpretrans.bpf.o: tp_btf tcp_retransmit_skb (2 or 3 arguments), tp_btf
// tcp_retransmit_synack, kprobe tcp_send_loss_probe.
import type { RunRequest } from '../../lib/backend.js'
import type { RetransmitEvent } from '../../lib/events.js'
import { tcpStateName } from '../../lib/kernel/tcp-states.js'
import { userFacingStack } from '../../lib/kernel/stack-frames.js'
import { addrAt, cString, RETRANS_EVENT, RETRANS_TYPE, stackAt } from '../event-abi.js'
import { kernelFilterPlaces, symbolizeStack } from './common.js'
import { unusablePlan, type BpfKindPlan, type BpfObjectDef } from './object-def.js'

const F = RETRANS_EVENT.fields
const BASE_FIELDS = ['pid', 'comm', 'family', 'laddr', 'lport', 'raddr', 'rport', 'state', 'netns', 'stack']

function tracepointPlan(kind: RetransmitEvent['kind'], event: string, program: string, fields: string[], req: RunRequest): BpfKindPlan {
  if (req.hookType === 'kprobe') return unusablePlan(kind, `--hook-type kprobe: the bpf backend traces ${event} through its tracepoint only`)
  return {
    kind,
    usable: true,
    reason: null,
    hookType: 'tracepoint',
    hook: `tracepoint tcp:${event}`,
    fields,
    filters: kernelFilterPlaces(req, ['family', 'port', 'addr', 'netns']),
    cannotSee: [],
    programs: [program],
  }
}

export const tcpretransObject: BpfObjectDef = {
  file: 'tcpretrans.bpf.o',
  kinds: ['tcp-retransmit', 'tcp-synack-retransmit', 'tcp-loss-probe'],
  allPrograms: ['retransmit_skb', 'retransmit_skb_err', 'retransmit_synack', 'loss_probe'],
  plan(kind, features, req) {
    if (kind === 'tcp-retransmit') {
      const args = features.tracepointArgs('tcp_retransmit_skb')
      if (args === null) return unusablePlan(kind, 'tracepoint tcp:tcp_retransmit_skb not in the kernel BTF')
      if (args >= 3) return tracepointPlan(kind, 'tcp_retransmit_skb', 'retransmit_skb_err', [...BASE_FIELDS, 'seq', 'err'], req)
      if (req.includeFailed) return unusablePlan(kind, '--err: tcp:tcp_retransmit_skb reports failed attempts only since 6.17')
      const plan = tracepointPlan(kind, 'tcp_retransmit_skb', 'retransmit_skb', [...BASE_FIELDS, 'seq'], req)
      plan.cannotSee.push('failed retransmit attempts (the tracepoint fires only for sent ones before 6.17)')
      return plan
    }
    if (kind === 'tcp-synack-retransmit') {
      if (features.tracepointArgs('tcp_retransmit_synack') === null) return unusablePlan(kind, 'tracepoint tcp:tcp_retransmit_synack not in the kernel BTF')
      const plan = tracepointPlan(kind, 'tcp_retransmit_synack', 'retransmit_synack', BASE_FIELDS, req)
      plan.cannotSee.push('sequence numbers of SYN-ACKs')
      return plan
    }
    if (kind === 'tcp-loss-probe') {
      if (req.hookType === 'tracepoint') return unusablePlan(kind, 'needs a kprobe on tcp_send_loss_probe; --hook-type tracepoint excludes it')
      const kp = features.kprobes
      if (!kp.usable) return unusablePlan(kind, `needs a kprobe on tcp_send_loss_probe: ${kp.reason}`)
      return {
        kind,
        usable: true,
        reason: null,
        hookType: 'kprobe',
        hook: 'kprobe tcp_send_loss_probe',
        fields: BASE_FIELDS,
        filters: kernelFilterPlaces(req, ['family', 'port', 'addr', 'netns']),
        cannotSee: ['whether the probe was sent (attempts are traced)'],
        programs: ['loss_probe'],
      }
    }
    return unusablePlan(kind, 'not served by tcpretrans.bpf.o')
  },
  decode(dv, env) {
    const type = dv.getUint8(F.type)
    const kind = type === RETRANS_TYPE.synack ? 'tcp-synack-retransmit' : type === RETRANS_TYPE.tlp ? 'tcp-loss-probe' : 'tcp-retransmit'
    const laddr = addrAt(dv, F.laddr)
    const raddr = addrAt(dv, F.raddr)
    const stackBytes = dv.getUint32(F.stack_bytes, true)
    const e: RetransmitEvent = {
      kind,
      tsNs: dv.getBigUint64(F.ts_ns, true),
      pid: dv.getUint32(F.pid, true),
      comm: cString(dv, F.comm, 16),
      family: laddr.family,
      laddr: laddr.text,
      lport: dv.getUint16(F.lport, true),
      raddr: raddr.text,
      rport: dv.getUint16(F.rport, true),
      state: tcpStateName(dv.getUint8(F.state)),
      netns: dv.getUint32(F.netns, true) || null,
      seq: kind === 'tcp-retransmit' ? dv.getUint32(F.seq, true) : null,
      err: kind === 'tcp-retransmit' ? dv.getInt32(F.err, true) : null,
      stack: stackBytes > 0 ? userFacingStack(symbolizeStack(stackAt(dv, F.stack, stackBytes), env), env.req.stackDepth) : null,
      sockId: null,
    }
    return e
  },
  suppressedLabel(reason) {
    return tcpStateName(reason)
  },
}
