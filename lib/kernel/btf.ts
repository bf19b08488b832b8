// A small reader for kernel BTF (/sys/kernel/btf/vmlinux): the header, the
// string section and a walk over the type section, enough to find an enum by
// name and read its values (drop reasons), and to locate a struct member
// (checking the offsets kprobe fetch-args assume). Layout:
// include/uapi/linux/btf.h (struct btf_header, struct btf_type and the per-kind
// trailers). It reads the file's bytes in place: no object per type.
import { readFileSync } from 'node:fs'
import { endianness } from 'node:os'
import { RuntimeError } from '../errors.js'

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux'

const BTF_MAGIC = 0xeb9f
const KIND = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11, FUNC_PROTO: 13, FLOAT: 16, TYPE_TAG: 18, ENUM64: 19 } as const
const QUALIFIERS: ReadonlySet<number> = new Set([KIND.TYPEDEF, KIND.VOLATILE, KIND.CONST, KIND.RESTRICT, KIND.TYPE_TAG])

export interface MemberLocation {
  /** Bytes from the start of the outer struct. */
  offset: number
  /** Bytes; null when it cannot be sized. */
  size: number | null
}

/** What a layout check needs of BTF (a test can stand in for it). */
export interface StructMembers {
  member(struct: string, member: string): MemberLocation | null
}

export interface BtfEnum {
  name: string
  signed: boolean
  values: Array<{ name: string; value: bigint }>
}

/** Bytes that follow struct btf_type (12 bytes) for each kind, given vlen. */
function trailerSize(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
      return 4
    case 3: // ARRAY
      return 12
    case 4: // STRUCT
    case 5: // UNION
      return 12 * vlen
    case 6: // ENUM
      return 8 * vlen
    case 13: // FUNC_PROTO
      return 8 * vlen
    case 14: // VAR
      return 4
    case 15: // DATASEC
      return 12 * vlen
    case 17: // DECL_TAG
      return 4
    case 19: // ENUM64
      return 12 * vlen
    case 2: // PTR
    case 7: // FWD
    case 8: // TYPEDEF
    case 9: // VOLATILE
    case 10: // CONST
    case 11: // RESTRICT
    case 12: // FUNC
    case 16: // FLOAT
    case 18: // TYPE_TAG
      return 0
    default:
      return -1
  }
}

export class Btf implements StructMembers {
  readonly #buf: Buffer
  /** The same bytes, for the reads (faster than Buffer's readUInt32LE/BE here). */
  readonly #dv: DataView
  /** The same bytes as host-order 32-bit words, when BTF's byte order is the
   *  host's and the buffer and type section are aligned (vmlinux: always): the walks over all
   *  types read these, ~2× faster than DataView calls before V8 optimizes. */
  readonly #words: Uint32Array | null
  readonly #le: boolean
  readonly #typeStart: number
  readonly #typeEnd: number
  readonly #strStart: number
  readonly #strEnd: number
  /** Byte offset of each type id's btf_type (index 0, void, unused); built on first need. */
  #typeAt: Uint32Array | null = null

  constructor(buf: Buffer, source = 'BTF') {
    if (buf.length < 24) throw new RuntimeError(`${source}: too short for a BTF header`)
    let le: boolean
    if (buf.readUInt16LE(0) === BTF_MAGIC) le = true
    else if (buf.readUInt16BE(0) === BTF_MAGIC) le = false
    else throw new RuntimeError(`${source}: not BTF (bad magic)`)
    const u32 = (off: number) => (le ? buf.readUInt32LE(off) : buf.readUInt32BE(off))
    const hdrLen = u32(4)
    const typeOff = u32(8)
    const typeLen = u32(12)
    const strOff = u32(16)
    const strLen = u32(20)
    this.#buf = buf
    this.#dv = new DataView(buf.buffer, buf.byteOffset, buf.length)
    const aligned = buf.byteOffset % 4 === 0 && (hdrLen + typeOff) % 4 === 0
    this.#words = le === (endianness() === 'LE') && aligned ? new Uint32Array(buf.buffer, buf.byteOffset, buf.length >>> 2) : null
    this.#le = le
    this.#typeStart = hdrLen + typeOff
    this.#typeEnd = this.#typeStart + typeLen
    this.#strStart = hdrLen + strOff
    this.#strEnd = this.#strStart + strLen
    if (this.#typeEnd > buf.length || this.#strEnd > buf.length) throw new RuntimeError(`${source}: sections run past the end of the file`)
  }

  static load(path = VMLINUX_BTF): Btf {
    let buf: Buffer
    try {
      buf = readFileSync(path)
    } catch (err) {
      throw new RuntimeError(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
    }
    return new Btf(buf, path)
  }

  #u32(off: number): number {
    return this.#dv.getUint32(off, this.#le)
  }

  #i32(off: number): number {
    return this.#dv.getInt32(off, this.#le)
  }

  /** The NUL-terminated string at a string-section offset. */
  string(off: number): string {
    const start = this.#strStart + off
    if (start >= this.#strEnd) return ''
    const end = this.#buf.indexOf(0, start)
    return this.#buf.toString('latin1', start, end < 0 || end > this.#strEnd ? this.#strEnd : end)
  }

  /** The first ENUM or ENUM64 type with this name, or null. */
  findEnum(name: string): BtfEnum | null {
    const id = this.#findType(name, (kind) => kind === KIND.ENUM || kind === KIND.ENUM64)
    const off = id === null ? undefined : this.#types()[id]
    if (off === undefined) return null
    const info = this.#u32(off + 4)
    return this.#readEnum(name, this.#kindAt(off), info & 0xffff, info >>> 31 === 1, off + 12)
  }

  /** The kind of the btf_type at a byte offset. */
  #kindAt(off: number): number {
    return (this.#u32(off + 4) >>> 24) & 0x1f
  }

  /** `struct name`'s member, searched through anonymous members too; null if absent. */
  member(struct: string, member: string): MemberLocation | null {
    const id = this.#findType(struct, (kind, vlen) => kind === KIND.STRUCT && vlen > 0)
    return id === null ? null : this.#findMember(id, member, 0)
  }

  /** Arguments of tp_btf/<event>: the prototype behind typedef btf_trace_<event>
   *  (typedef → pointer → func_proto(void *ctx, args…)), without ctx; null when absent. */
  tracepointArgs(event: string): number | null {
    let id = this.#findType(`btf_trace_${event}`, (kind) => kind === KIND.TYPEDEF)
    const at = this.#types()
    for (let hop = 0; hop < 4 && id !== null && id !== 0; hop++) {
      const off = at[id]
      if (off === undefined) return null
      if (this.#kindAt(off) === KIND.FUNC_PROTO) return (this.#u32(off + 4) & 0xffff) - 1
      id = this.#u32(off + 8)
    }
    return null
  }

  /** The id of the first type with this name whose kind (and vlen) `wanted`
   *  accepts, or null. The name is found once in the string section (strings
   *  are deduplicated), then types are matched by its offset: no string
   *  compare per type. */
  #findType(name: string, wanted: (kind: number, vlen: number) => boolean): number | null {
    const want = Buffer.from(name + '\0', 'latin1')
    const at = this.#types()
    for (let from = this.#strStart; ; ) {
      const i = this.#buf.indexOf(want, from)
      if (i < 0 || i + want.length > this.#strEnd) return null
      from = i + 1
      if (i !== this.#strStart && this.#buf[i - 1] !== 0) continue // the tail of a longer name
      const nameOff = i - this.#strStart
      const words = this.#words
      for (let id = 1; id < at.length; id++) {
        const off = at[id] ?? 0
        if ((words ? words[off >>> 2] : this.#u32(off)) !== nameOff) continue
        if (wanted(this.#kindAt(off), this.#u32(off + 4) & 0xffff)) return id
      }
    }
  }

  #types(): Uint32Array {
    if (this.#typeAt) return this.#typeAt
    // Every btf_type is at least 12 bytes: that bounds the count, so the index
    // is filled in place (a growing array took ~10 ms for vmlinux's 130k types).
    const offsets = new Uint32Array(Math.floor((this.#typeEnd - this.#typeStart) / 12) + 1)
    let n = 1
    let off = this.#typeStart
    const words = this.#words
    while (off + 12 <= this.#typeEnd) {
      const info = words ? (words[(off >>> 2) + 1] as number) : this.#u32(off + 4)
      const kind = (info >>> 24) & 0x1f
      const size = trailerSize(kind, info & 0xffff)
      if (size < 0) throw new RuntimeError(`BTF: unknown type kind ${kind} at offset ${off - this.#typeStart}`)
      offsets[n++] = off
      off += 12 + size
    }
    this.#typeAt = offsets.subarray(0, n)
    return this.#typeAt
  }

  #findMember(id: number, member: string, baseBits: number): MemberLocation | null {
    const off = this.#types()[id]
    if (off === undefined || id === 0) return null
    const kind = this.#kindAt(off)
    if (kind !== KIND.STRUCT && kind !== KIND.UNION) return null
    const info = this.#u32(off + 4)
    const bitfields = info >>> 31 === 1 // kind_flag: low 24 bits offset, high 8 bitfield size
    for (let i = 0; i < (info & 0xffff); i++) {
      const m = off + 12 + 12 * i
      const raw = this.#u32(m + 8)
      const bits = baseBits + (bitfields ? raw & 0xffffff : raw)
      const name = this.string(this.#u32(m))
      if (name === member) return { offset: bits / 8, size: this.#sizeOf(this.#u32(m + 4)) }
      if (name === '') {
        const found = this.#findMember(this.#strip(this.#u32(m + 4)), member, bits)
        if (found) return found
      }
    }
    return null
  }

  /** Follows typedefs and qualifiers to the type they name. */
  #strip(id: number): number {
    const at = this.#types()
    for (let i = 0; i < 16; i++) {
      const off = at[id]
      if (off === undefined || id === 0 || !QUALIFIERS.has(this.#kindAt(off))) return id
      id = this.#u32(off + 8)
    }
    return id
  }

  #sizeOf(id: number): number | null {
    const sid = this.#strip(id)
    const off = this.#types()[sid]
    if (off === undefined || sid === 0) return null
    const kind = this.#kindAt(off)
    if (kind === KIND.PTR) return 8
    if (kind === KIND.ARRAY) {
      const elem = this.#sizeOf(this.#u32(off + 12))
      return elem === null ? null : elem * this.#u32(off + 20)
    }
    const sized: number[] = [KIND.INT, KIND.STRUCT, KIND.UNION, KIND.ENUM, KIND.ENUM64, KIND.FLOAT]
    return sized.includes(kind) ? this.#u32(off + 8) : null
  }

  #readEnum(name: string, kind: number, vlen: number, signed: boolean, body: number): BtfEnum {
    const values: BtfEnum['values'] = []
    for (let i = 0; i < vlen; i++) {
      if (kind === KIND.ENUM) {
        const at = body + 8 * i
        const raw = signed ? this.#i32(at + 4) : this.#u32(at + 4)
        values.push({ name: this.string(this.#u32(at)), value: BigInt(raw) })
      } else {
        const at = body + 12 * i
        let v = (BigInt(this.#u32(at + 8)) << 32n) | BigInt(this.#u32(at + 4))
        if (signed) v = BigInt.asIntN(64, v)
        values.push({ name: this.string(this.#u32(at)), value: v })
      }
    }
    return { name, signed, values }
  }
}
