// A small reader for kernel BTF (/sys/kernel/btf/vmlinux): the header, the
// string section and a walk over the type section, enough to find an enum by
// name and read its values. Layout: include/uapi/linux/btf.h (struct btf_header,
// struct btf_type and the per-kind trailers). Nothing else of BTF is decoded.
import { readFileSync } from 'node:fs'
import { RuntimeError } from '../errors.js'

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux'

const BTF_MAGIC = 0xeb9f
const KIND_ENUM = 6
const KIND_ENUM64 = 19

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

export class Btf {
  readonly #buf: Buffer
  readonly #le: boolean
  readonly #typeStart: number
  readonly #typeEnd: number
  readonly #strStart: number
  readonly #strEnd: number

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
    return this.#le ? this.#buf.readUInt32LE(off) : this.#buf.readUInt32BE(off)
  }

  #i32(off: number): number {
    return this.#le ? this.#buf.readInt32LE(off) : this.#buf.readInt32BE(off)
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
    const want = Buffer.from(name + '\0', 'latin1')
    let off = this.#typeStart
    while (off + 12 <= this.#typeEnd) {
      const nameOff = this.#u32(off)
      const info = this.#u32(off + 4)
      const vlen = info & 0xffff
      const kind = (info >>> 24) & 0x1f
      const kindFlag = (info >>> 31) === 1
      const size = trailerSize(kind, vlen)
      if (size < 0) throw new RuntimeError(`BTF: unknown type kind ${kind} at offset ${off - this.#typeStart}`)
      const body = off + 12
      if ((kind === KIND_ENUM || kind === KIND_ENUM64) && this.#nameIs(nameOff, want)) {
        return this.#readEnum(name, kind, vlen, kindFlag, body)
      }
      off = body + size
    }
    return null
  }

  #nameIs(nameOff: number, want: Buffer): boolean {
    const start = this.#strStart + nameOff
    return start + want.length <= this.#strEnd && this.#buf.compare(want, 0, want.length, start, start + want.length) === 0
  }

  #readEnum(name: string, kind: number, vlen: number, signed: boolean, body: number): BtfEnum {
    const values: BtfEnum['values'] = []
    for (let i = 0; i < vlen; i++) {
      if (kind === KIND_ENUM) {
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
