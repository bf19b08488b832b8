import { existsSync } from 'node:fs'
import t from 'tap'
import { Btf, VMLINUX_BTF } from '../../lib/kernel/btf.js'

/** A tiny BTF blob: one type of most kinds in front of the enums, so the walk must size each correctly. */
function buildBtf(le = true, headerPadding = 0): Buffer {
  const strs = ['', 'int', 'pair', 'a', 'b', 'color', 'RED', 'BLUE', 'big', 'HUGE', 'NEG', 'f', 'x']
  const strOff = new Map<string, number>()
  let strBuf = Buffer.alloc(0)
  for (const s of strs) {
    strOff.set(s, strBuf.length)
    strBuf = Buffer.concat([strBuf, Buffer.from(s + '\0', 'latin1')])
  }
  const words: number[] = []
  const type = (name: string, kind: number, vlen: number, sizeOrType: number, flag = 0) =>
    words.push(strOff.get(name) ?? 0, ((flag << 31) | (kind << 24) | vlen) >>> 0, sizeOrType)
  type('int', 1, 0, 4) // [1] INT
  words.push(0x01000020) // encoding/offset/bits
  type('', 2, 0, 1) // [2] PTR → int
  type('pair', 4, 2, 8) // [3] STRUCT with two members
  words.push(strOff.get('a')!, 1, 0, strOff.get('b')!, 1, 32)
  type('', 3, 0, 0) // [4] ARRAY
  words.push(1, 1, 4)
  type('f', 13, 1, 1) // [5] FUNC_PROTO with one param
  words.push(strOff.get('x')!, 1)
  type('color', 6, 2, 4) // [6] ENUM
  words.push(strOff.get('RED')!, 0, strOff.get('BLUE')!, 7)
  type('big', 19, 2, 8, 1) // [7] ENUM64, signed
  words.push(strOff.get('HUGE')!, 0x00000000, 0x00000001, strOff.get('NEG')!, 0xffffffff, 0xffffffff)
  const typeBuf = Buffer.alloc(words.length * 4)
  words.forEach((w, i) => (le ? typeBuf.writeUInt32LE(w >>> 0, i * 4) : typeBuf.writeUInt32BE(w >>> 0, i * 4)))
  const hdr = Buffer.alloc(24 + headerPadding)
  const u32 = (v: number, at: number) => (le ? hdr.writeUInt32LE(v, at) : hdr.writeUInt32BE(v, at))
  if (le) hdr.writeUInt16LE(0xeb9f, 0)
  else hdr.writeUInt16BE(0xeb9f, 0)
  hdr[2] = 1
  u32(24 + headerPadding, 4)
  u32(0, 8)
  u32(typeBuf.length, 12)
  u32(typeBuf.length, 16)
  u32(strBuf.length, 20)
  return Buffer.concat([hdr, typeBuf, strBuf])
}

t.test('a header of another length: types found wherever the section starts, aligned or not', async (t) => {
  for (const padding of [0, 2, 4]) {
    // Buffer.alloc is never pooled: byte offset 0, so only the section's own alignment varies.
    const built = buildBtf(true, padding)
    const btf = new Btf(Buffer.from(built.buffer.slice(built.byteOffset, built.byteOffset + built.length)))
    t.same(btf.findEnum('color')?.values.map((v) => v.name), ['RED', 'BLUE'], `header of ${24 + padding} bytes`)
    t.equal(btf.tracepointArgs('nothing'), null)
  }
})

t.test('finds enums behind other kinds; ENUM64 and signed values', async (t) => {
  for (const le of [true, false]) {
    const btf = new Btf(buildBtf(le))
    t.same(btf.findEnum('color'), { name: 'color', signed: false, values: [{ name: 'RED', value: 0n }, { name: 'BLUE', value: 7n }] }, `enum (${le ? 'LE' : 'BE'})`)
    t.same(btf.findEnum('big')?.values, [{ name: 'HUGE', value: 1n << 32n }, { name: 'NEG', value: -1n }], 'enum64')
    t.equal(btf.findEnum('pair'), null, 'a struct is not an enum')
    t.equal(btf.findEnum('nope'), null)
  }
})

t.test('rejects what is not BTF', async (t) => {
  t.throws(() => new Btf(Buffer.alloc(10)), /too short/)
  t.throws(() => new Btf(Buffer.alloc(64)), /bad magic/)
  const cut = buildBtf().subarray(0, 40)
  t.throws(() => new Btf(cut), /past the end/)
  t.throws(() => Btf.load('/nonexistent/btf'), /cannot read/)
})

t.test('this host: enum skb_drop_reason from /sys/kernel/btf/vmlinux', { skip: !existsSync(VMLINUX_BTF) && 'no kernel BTF' }, async (t) => {
  const e = Btf.load().findEnum('skb_drop_reason')
  t.ok(e, 'enum found')
  const names = new Map(e?.values.map((v) => [v.name, v.value]))
  t.ok(names.has('SKB_DROP_REASON_NOT_SPECIFIED'))
  t.ok(names.has('SKB_DROP_REASON_NO_SOCKET'))
  t.ok(names.has('SKB_DROP_REASON_NETFILTER_DROP'))
  t.equal(names.get('SKB_NOT_DROPPED_YET'), 0n)
})
