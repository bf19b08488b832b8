// dropwatch.bpf.o: every skb:kfree_skb counted in a per-CPU hash map in the
// kernel; sample() reads the cumulative counters and emits the increments since
// the last sample as SkbDropCountEvents (exact at any rate, no ring buffer).
import type { KindOptions, SkbDropCountEvent } from '../../lib/events.js'
import { familyOfProtocol } from '../../lib/kernel/eth-protocol.js'
import { addressText } from '../../lib/kernel/kallsyms.js'
import { cString, DROP_COUNT_KEY, encodeDropwatchConfig, RODATA } from '../event-abi.js'
import type { LoadedObject } from '../loaded-object.js'
import { kfreeSkbPlan, kfreeSkbProgram, kfreeSkbPrograms, unusableBpfPlan, type BpfObjectDef, type DecodeEnv } from './object-def.js'

const K = DROP_COUNT_KEY.fields
const PROGRAM_PREFIX = 'count_kfree_skb'

export const dropwatchObject: BpfObjectDef = {
  file: 'dropwatch.bpf.o',
  allPrograms: kfreeSkbPrograms(PROGRAM_PREFIX),
  rodata: RODATA.dropwatch,
  aggregates: true,
  plan({ kind }, features, run) {
    if (run.hookType === 'kprobe') return unusableBpfPlan(kind, '--hook-type kprobe: the bpf backend counts drops through skb:kfree_skb only')
    const tp = kfreeSkbProgram(features, PROGRAM_PREFIX)
    if (!tp) return unusableBpfPlan(kind, 'tracepoint skb:kfree_skb not in the kernel BTF')
    const hasReason = tp.args >= 3
    const fields = ['location:kallsyms', 'address', 'protocol', 'family', 'netns', 'ifindex', 'dev']
    if (hasReason) fields.push('reason')
    return kfreeSkbPlan(kind, {
      fields,
      // -4/-6 by skb->protocol; ports and addresses mean nothing for "any protocol" counts.
      filters: { family: 'kernel', netns: 'kernel', reason: hasReason ? 'kernel' : 'none', port: 'none', addr: 'none' },
      cannotSee: hasReason ? [] : ['drop reasons, and consumed skbs are not told apart: every kfree_skb() counts (before 5.17)'],
      reasons: () => features.dropReasons(),
      programs: [tp.program],
    })
  },
  config(requests) {
    const options = requests[0]?.options as KindOptions['skb-drop-count'] | undefined
    return (dv, at) => encodeDropwatchConfig(dv, at, { groupByDev: options?.groupByDev ?? false })
  },
  decoder() {
    return () => null
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
        family: familyOfProtocol(protocol),
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
