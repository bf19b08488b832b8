// Where a member sits inside a kernel struct, read from kernel BTF
// (/sys/kernel/btf/vmlinux), so offsets used in kprobe fetch-args are checked
// on the running kernel instead of trusted. Looks through anonymous
// structs/unions (sock_common nests its address pair in one).
// Format: include/uapi/linux/btf.h. (lib/kernel/btf.ts reads enums; this reads
// structs — kept apart while both are young, one walk could serve both.)
import { readFileSync } from 'node:fs'

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux'

const BTF_MAGIC = 0xeb9f
const K = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19 } as const
const QUALIFIERS: ReadonlySet<number> = new Set([K.TYPEDEF, K.VOLATILE, K.CONST, K.RESTRICT, K.TYPE_TAG])

interface Member {
  name: string
  type: number
  bitOffset: number
}

interface Type {
  kind: number
  /** size for sized kinds, referenced type id for qualifiers and pointers */
  sizeOrType: number
  members: Member[] | null
  array: { type: number; nelems: number } | null
}

export interface MemberLocation {
  /** Bytes from the start of the outer struct. */
  offset: number
  /** Bytes; null when it cannot be sized. */
  size: number | null
}

export class BtfStructLayout {
  readonly #types: Array<Type | null> = [null] // id 0 is void
  readonly #structs = new Map<string, number>()

  constructor(data: Buffer) {
    if (data.length < 24 || data.readUInt16LE(0) !== BTF_MAGIC) throw new Error('not little-endian BTF')
    const hdrLen = data.readUInt32LE(4)
    const typeOff = hdrLen + data.readUInt32LE(8)
    const typeEnd = typeOff + data.readUInt32LE(12)
    const strOff = hdrLen + data.readUInt32LE(16)
    const str = (off: number) => (off === 0 ? '' : data.toString('latin1', strOff + off, data.indexOf(0, strOff + off)))
    let p = typeOff
    while (p + 12 <= typeEnd) {
      const nameOff = data.readUInt32LE(p)
      const info = data.readUInt32LE(p + 4)
      const t: Type = { kind: (info >>> 24) & 0x1f, sizeOrType: data.readUInt32LE(p + 8), members: null, array: null }
      const vlen = info & 0xffff
      p += 12
      switch (t.kind) {
        case K.STRUCT:
        case K.UNION: {
          const bitfields = info >>> 31 === 1 // kind_flag: low 24 bits offset, high 8 bitfield size
          t.members = []
          for (let i = 0; i < vlen; i++, p += 12) {
            const raw = data.readUInt32LE(p + 8)
            t.members.push({ name: str(data.readUInt32LE(p)), type: data.readUInt32LE(p + 4), bitOffset: bitfields ? raw & 0xffffff : raw })
          }
          if (t.kind === K.STRUCT && vlen > 0) {
            const name = str(nameOff)
            if (name && !this.#structs.has(name)) this.#structs.set(name, this.#types.length)
          }
          break
        }
        case K.ARRAY:
          t.array = { type: data.readUInt32LE(p), nelems: data.readUInt32LE(p + 8) }
          p += 12
          break
        case K.INT:
        case K.VAR:
        case K.DECL_TAG:
          p += 4
          break
        case K.ENUM:
        case K.FUNC_PROTO:
          p += 8 * vlen
          break
        case K.DATASEC:
        case K.ENUM64:
          p += 12 * vlen
          break
        default:
          if (t.kind < 1 || t.kind > K.ENUM64) throw new Error(`unknown BTF kind ${t.kind}`)
      }
      this.#types.push(t)
    }
  }

  static fromFile(path = VMLINUX_BTF): BtfStructLayout {
    return new BtfStructLayout(readFileSync(path))
  }

  /** `struct name`'s member (searched through anonymous members too); null if absent. */
  member(struct: string, member: string): MemberLocation | null {
    const id = this.#structs.get(struct)
    return id === undefined ? null : this.#find(id, member, 0)
  }

  #find(id: number, member: string, baseBits: number): MemberLocation | null {
    for (const m of this.#types[id]?.members ?? []) {
      const bits = baseBits + m.bitOffset
      if (m.name === member) return { offset: bits / 8, size: this.#sizeOf(m.type) }
      if (m.name === '') {
        const found = this.#find(this.#strip(m.type), member, bits)
        if (found) return found
      }
    }
    return null
  }

  #strip(id: number): number {
    for (let i = 0; i < 16; i++) {
      const t = this.#types[id]
      if (!t || !QUALIFIERS.has(t.kind)) return id
      id = t.sizeOrType
    }
    return id
  }

  #sizeOf(id: number): number | null {
    const t = this.#types[this.#strip(id)]
    if (!t) return null
    if (t.kind === K.PTR) return 8
    if (t.kind === K.ARRAY && t.array) {
      const elem = this.#sizeOf(t.array.type)
      return elem === null ? null : elem * t.array.nelems
    }
    if (t.kind === K.INT || t.kind === K.STRUCT || t.kind === K.UNION || t.kind === K.ENUM || t.kind === K.ENUM64 || t.kind === K.FLOAT) return t.sizeOrType
    return null
  }
}
