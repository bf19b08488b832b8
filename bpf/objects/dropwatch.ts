// dropwatch.bpf.o: every skb:kfree_skb counted in a per-CPU hash map in the
// kernel; sample() reads the cumulative counters and emits the increments since
// the last sample as SkbDropCountEvents (exact at any rate, no ring buffer).
import type { SkbDropCountEvent } from '../../lib/events.js'
import { addressText } from '../../lib/kernel/kallsyms.js'
import { cString, DROP_COUNT_KEY } from '../event-abi.js'
import type { LoadedObject } from '../loaded-object.js'
import { unusablePlan, type BpfObjectDef, type DecodeEnv } from './object-def.js'

const K = DROP_COUNT_KEY.fields
const PROGRAM_BY_ARGS: Record<number, string> = { 2: 'count_kfree_skb2', 3: 'count_kfree_skb3', 4: 'count_kfree_skb4' }
const ETH_P_IP = 0x0800
const ETH_P_IPV6 = 0x86dd

export const dropwatchObject: BpfObjectDef = {
  file: 'dropwatch.bpf.o',
  kinds: ['skb-drop-count'],
  allPrograms: Object.values(PROGRAM_BY_ARGS),
  aggregates: true,
  plan(kind, features, req) {
    if (req.hookType === 'kprobe') return unusablePlan(kind, '--hook-type kprobe: the bpf backend counts drops through skb:kfree_skb only')
    const args = features.tracepointArgs('kfree_skb')
    const program = args === null ? undefined : PROGRAM_BY_ARGS[Math.min(args, 4)]
    if (!program || args === null) return unusablePlan(kind, 'tracepoint skb:kfree_skb not in the kernel BTF')
    const fields = ['location:kallsyms', 'address', 'protocol', 'family', 'netns', 'ifindex', 'dev']
    const cannotSee: string[] = []
    if (args >= 3) fields.push('reason')
    else cannotSee.push('drop reasons, and consumed skbs are not told apart: every kfree_skb() counts (before 5.17)')
    if (req.filters.reasons.length > 0) {
      if (args < 3) return unusablePlan(kind, '--reason: skb:kfree_skb has no reason on this kernel (before 5.17)')
      const unknown = req.filters.reasons.filter((r) => features.dropReasons().code(r) === null)
      if (unknown.length) return unusablePlan(kind, `--reason ${unknown.join(', ')}: not a drop reason of this kernel`)
    }
    return {
      kind,
      usable: true,
      reason: null,
      hookType: 'tracepoint',
      hook: 'tracepoint skb:kfree_skb',
      fields,
      // -4/-6 by skb->protocol; ports and addresses mean nothing for "any protocol" counts.
      filters: { family: 'kernel', netns: 'kernel', reason: 'kernel', port: 'none', addr: 'none' },
      cannotSee,
      programs: [program],
    }
  },
  decode() {
    return null
  },
  sample(obj: LoadedObject, env: DecodeEnv, previous: Map<string, number>): SkbDropCountEvent[] {
    const ncpu = obj.lib.possibleCpus()
    const out: SkbDropCountEvent[] = []
    for (const [key, value] of obj.entries('drops', DROP_COUNT_KEY.size, 8 * ncpu)) {
      const vd = new DataView(value.buffer)
      let total = 0
      for (let i = 0; i < ncpu; i++) total += Number(vd.getBigUint64(8 * i, true))
      const id = Buffer.from(key).toString('hex')
      const delta = total - (previous.get(id) ?? 0)
      if (delta <= 0) continue
      previous.set(id, total)
      const kd = new DataView(key.buffer)
      const location = kd.getBigUint64(K.location, true)
      const protocol = kd.getUint16(K.protocol, true)
      const reason = kd.getUint32(K.reason, true)
      const ifindex = kd.getInt32(K.ifindex, true)
      out.push({
        kind: 'skb-drop-count',
        location: env.kallsyms()?.symbolize(location) ?? addressText(location), // once per key and interval
        address: addressText(location),
        reason: env.hasReason ? env.dropReasons().name(reason) : null,
        reasonCode: env.hasReason ? reason : null,
        protocol,
        family: protocol === ETH_P_IP ? 4 : protocol === ETH_P_IPV6 ? 6 : null,
        netns: kd.getUint32(K.netns, true) || null,
        ifindex: ifindex > 0 ? ifindex : null,
        dev: cString(kd, K.dev, 16) || null,
        count: delta,
      })
    }
    return out
  },
  suppressedLabel() {
    return ''
  },
}
