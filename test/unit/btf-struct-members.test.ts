import { existsSync } from 'node:fs'
import t from 'tap'
import { Btf, VMLINUX_BTF } from '../../lib/kernel/btf.js'

// A hand-built BTF blob: int (4), short (2), struct pair { int a; int b; },
// struct outer { union { long x; struct pair; }; short port; unsigned char st:4 (bitfield) }.
function blob(): Buffer {
  const strings = ['', 'int', 'short', 'pair', 'a', 'b', 'outer', 'port', 'st', 'long', 'char']
  const strOff = new Map<string, number>()
  let off = 0
  for (const s of strings) {
    strOff.set(s, off)
    off += s.length + 1
  }
  const str = Buffer.concat(strings.map((s) => Buffer.from(s + '\0', 'latin1')))
  const words: number[] = []
  const type = (name: string, kind: number, vlen: number, sizeOrType: number, kindFlag = false) =>
    words.push(strOff.get(name)!, ((kindFlag ? 1 : 0) << 31) | (kind << 24) | vlen, sizeOrType)
  type('int', 1, 0, 4); words.push(32) // [1]
  type('short', 1, 0, 2); words.push(16) // [2]
  type('pair', 4, 2, 8); words.push(strOff.get('a')!, 1, 0, strOff.get('b')!, 1, 32) // [3]
  type('long', 1, 0, 8); words.push(64) // [4]
  type('', 5, 2, 8); words.push(0, 4, 0, 0, 3, 0) // [5] anonymous union { long; struct pair (anonymous member) }
  type('char', 1, 0, 1); words.push(8) // [6]
  type('outer', 4, 3, 16, true); words.push(0, 5, 0, strOff.get('port')!, 2, 64, strOff.get('st')!, 6, (4 << 24) | 80) // [7]
  const types = Buffer.alloc(words.length * 4)
  words.forEach((w, i) => types.writeUInt32LE(w >>> 0, i * 4))
  const hdr = Buffer.alloc(24)
  hdr.writeUInt16LE(0xeb9f, 0)
  hdr.writeUInt8(1, 2)
  hdr.writeUInt32LE(24, 4)
  hdr.writeUInt32LE(0, 8)
  hdr.writeUInt32LE(types.length, 12)
  hdr.writeUInt32LE(types.length, 16)
  hdr.writeUInt32LE(str.length, 20)
  return Buffer.concat([hdr, types, str])
}

t.test('members through anonymous unions and structs, bitfields', async (t) => {
  const btf = new Btf(blob())
  t.same(btf.member('outer', 'b'), { offset: 4, size: 4 })
  t.same(btf.member('outer', 'x'), null, 'unnamed long has no name to find')
  t.same(btf.member('outer', 'port'), { offset: 8, size: 2 })
  t.same(btf.member('outer', 'st'), { offset: 10, size: 1 })
  t.equal(btf.member('outer', 'nope'), null)
  t.equal(btf.member('nostruct', 'a'), null)
  t.throws(() => new Btf(Buffer.alloc(30)), /not BTF/)
})

t.test('this kernel: struct sock_common as the kprobe fetch-args assume', { skip: !existsSync(VMLINUX_BTF) && 'no kernel BTF' }, async (t) => {
  const btf = Btf.load()
  t.same(btf.member('sock_common', 'skc_daddr'), { offset: 0, size: 4 })
  t.same(btf.member('sock_common', 'skc_num'), { offset: 14, size: 2 })
  t.same(btf.member('sock_common', 'skc_state'), { offset: 18, size: 1 })
})

t.test('this kernel: tracepoint prototypes (what picks the tp_btf program variant)', { skip: !existsSync(VMLINUX_BTF) && 'no kernel BTF' }, async (t) => {
  const btf = Btf.load()
  // 6.11+: kfree_skb(skb, location, reason, rx_sk); 6.17+: tcp_retransmit_skb(sk, skb, err).
  t.equal(btf.tracepointArgs('kfree_skb'), 4)
  t.equal(btf.tracepointArgs('tcp_retransmit_skb'), 3)
  t.equal(btf.tracepointArgs('sock_recv_length'), 3)
  t.equal(btf.tracepointArgs('no_such_tracepoint'), null)
})
