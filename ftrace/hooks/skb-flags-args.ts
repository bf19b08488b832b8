// Fetch-args that read a TCP segment's flags from the struct sk_buff a kprobe
// argument points to: TCP_SKB_CB(skb)->tcp_flags, i.e. skb->cb (at +0x28 on
// x86_64 from 3.10 to 6.x) and tcp_flags at +12 in struct tcp_skb_cb (a u8;
// a u16 since AccECN in 6.x, whose low byte on little-endian x86_64 holds the
// same eight flags). Where the kernel has BTF the offsets are checked; a
// mismatch makes the hook unusable rather than wrong.
import type { StructMembers } from '../../lib/kernel/btf.js'
import type { ArgRegister } from './sock-common-args.js'
import { runningBtf } from './running-btf.js'

const SKB_CB = 0x28
const TCP_FLAGS = 12

export type SkbFlagsCheck = { ok: true; source: 'btf' | 'assumed' } | { ok: false; reason: string }

export function checkSkbFlagsLayout(btf: StructMembers | null): SkbFlagsCheck {
  if (btf === null) return { ok: true, source: 'assumed' }
  const cb = btf.member('sk_buff', 'cb')
  const flags = btf.member('tcp_skb_cb', 'tcp_flags')
  const wrong: string[] = []
  if (!cb || cb.offset !== SKB_CB) wrong.push(cb ? `sk_buff.cb at +${cb.offset}, expected +${SKB_CB}` : 'sk_buff.cb missing')
  if (!flags || flags.offset !== TCP_FLAGS || (flags.size !== 1 && flags.size !== 2)) {
    wrong.push(flags ? `tcp_skb_cb.tcp_flags at +${flags.offset} size ${flags.size ?? '?'}, expected +${TCP_FLAGS} size 1 or 2` : 'tcp_skb_cb.tcp_flags missing')
  }
  return wrong.length ? { ok: false, reason: `TCP flags cannot be read on this kernel (BTF): ${wrong.join(', ')}` } : { ok: true, source: 'btf' }
}

export function runningSkbFlagsLayout(): SkbFlagsCheck {
  const r = runningBtf()
  return 'error' in r ? { ok: false, reason: r.error } : checkSkbFlagsLayout(r.btf)
}

/** The skb pointer (for de-duplication) and its TCP flags. */
export function skbFlagsArgs(reg: ArgRegister): string[] {
  return [`skb=${reg}:x64`, `tcpflags=+${SKB_CB + TCP_FLAGS}(${reg}):u8`]
}
