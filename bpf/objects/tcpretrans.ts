// tcpretrans.bpf.o: tp_btf tcp_retransmit_skb (2 or 3 arguments), tp_btf
// tcp_retransmit_synack, kprobe tcp_send_loss_probe.
import type { RunRequest } from '../../lib/backend.js'
import type { KindRequest, RetransmitEvent } from '../../lib/events.js'
import { tcpStateName } from '../../lib/kernel/tcp-states.js'
import { addrAt, cString, encodeTcpretransConfig, RETRANS_EVENT, RETRANS_TYPE, RODATA } from '../event-abi.js'
import type { KernelFeatures } from '../kernel-features.js'
import { decodeStack, kernelFilterPlaces, stackOf } from './common.js'
import { unusableBpfPlan, type BpfKindPlan, type BpfObjectDef } from './object-def.js'

const F = RETRANS_EVENT.fields
const BASE_FIELDS = ['pid', 'comm', 'family', 'laddr', 'lport', 'raddr', 'rport', 'state', 'netns', 'stack']

function tracepointPlan(kind: RetransmitEvent['kind'], event: string, program: string, fields: string[], run: RunRequest, standby?: string): BpfKindPlan {
  if (run.hookType === 'kprobe') return unusableBpfPlan(kind, `--hook-type kprobe: the bpf backend traces ${event} through its tracepoint only`)
  return {
    kind,
    usable: true,
    reason: null,
    hookType: 'tracepoint',
    hook: `tracepoint tcp:${event}`,
    fields,
    filters: kernelFilterPlaces(run, ['family', 'port', 'addr', 'netns']),
    cannotSee: [],
    programs: standby ? [program, standby] : [program],
    standby: standby ? [standby] : [],
  }
}

/** One plan per kind: each is its own hook of the same object. */
const PLANS: Record<RetransmitEvent['kind'], (features: KernelFeatures, run: RunRequest) => BpfKindPlan> = {
  'tcp-retransmit'(features, run) {
    const kind = 'tcp-retransmit'
    const args = features.tracepointArgs('tcp_retransmit_skb')
    if (args === null) return unusableBpfPlan(kind, 'tracepoint tcp:tcp_retransmit_skb not in the kernel BTF')
    // It nests (process and softirq context): each with a standby program.
    if (args >= 3) return tracepointPlan(kind, 'tcp_retransmit_skb', 'retransmit_skb_err', [...BASE_FIELDS, 'seq', 'err'], run, 'retransmit_skb_err_standby')
    const plan = tracepointPlan(kind, 'tcp_retransmit_skb', 'retransmit_skb', [...BASE_FIELDS, 'seq'], run, 'retransmit_skb_standby')
    plan.fieldNotes = { err: '(failed attempts are reported only since 6.17)' }
    plan.cannotSee.push('failed retransmit attempts (the tracepoint fires only for sent ones before 6.17)')
    return plan
  },
  'tcp-synack-retransmit'(features, run) {
    const kind = 'tcp-synack-retransmit'
    if (features.tracepointArgs('tcp_retransmit_synack') === null) return unusableBpfPlan(kind, 'tracepoint tcp:tcp_retransmit_synack not in the kernel BTF')
    const plan = tracepointPlan(kind, 'tcp_retransmit_synack', 'retransmit_synack', BASE_FIELDS, run)
    plan.cannotSeeOf = { seq: 'sequence numbers of SYN-ACKs' }
    return plan
  },
  'tcp-loss-probe'(features, run) {
    const kind = 'tcp-loss-probe'
    if (run.hookType === 'tracepoint') return unusableBpfPlan(kind, 'needs a kprobe on tcp_send_loss_probe; --hook-type tracepoint excludes it')
    const kp = features.kprobes
    if (!kp.usable) return unusableBpfPlan(kind, `needs a kprobe on tcp_send_loss_probe: ${kp.reason}`)
    return {
      kind,
      usable: true,
      reason: null,
      hookType: 'kprobe',
      hook: 'kprobe tcp_send_loss_probe',
      fields: BASE_FIELDS,
      filters: kernelFilterPlaces(run, ['family', 'port', 'addr', 'netns']),
      cannotSee: ['whether the probe was sent (attempts are traced)'],
      programs: ['loss_probe'],
    }
  },
}

function includeFailed(requests: readonly KindRequest[]): boolean {
  return requests.some((r) => r.kind === 'tcp-retransmit' && r.options.includeFailed)
}

export const tcpretransObject: BpfObjectDef = {
  file: 'tcpretrans.bpf.o',
  allPrograms: ['retransmit_skb', 'retransmit_skb_standby', 'retransmit_skb_err', 'retransmit_skb_err_standby', 'retransmit_synack', 'loss_probe'],
  rodata: RODATA.tcpretrans,
  plan({ kind }, features, run) {
    const plan = PLANS[kind as RetransmitEvent['kind']]
    return plan ? plan(features, run) : unusableBpfPlan(kind, 'not served by tcpretrans.bpf.o')
  },
  config(requests) {
    const values = { wantStack: stackOf(requests) !== null, includeFailed: includeFailed(requests) }
    return (dv, at) => encodeTcpretransConfig(dv, at, values)
  },
  decoder(requests, env) {
    const depth = stackOf(requests)?.depth ?? 0
    return (dv) => {
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
        segs: dv.getUint32(F.segs, true),
        stack: stackBytes > 0 ? decodeStack(dv, F.stack, stackBytes, env, depth) : null,
        sockId: null,
      }
      return e
    }
  },
  suppressedLabel(reason) {
    return tcpStateName(reason)
  },
}
