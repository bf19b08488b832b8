// Section sizes and symbols of a 64-bit little-endian ELF object (a compiled
// BPF object), read from the file itself: no binutils needed.
import { readFileSync } from 'node:fs'

export interface ElfSymbol {
  name: string
  section: string
  /** st_value: the offset in its section, for an object file */
  value: number
  size: number
}

export interface ElfContents {
  /** section name → size in bytes */
  sections: Map<string, number>
  symbols: ElfSymbol[]
}

const SHT_SYMTAB = 2

export function elfContents(path: string): ElfContents {
  const buf = readFileSync(path)
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) throw new Error(`${path}: not a 64-bit little-endian ELF file`)
  const shoff = Number(dv.getBigUint64(0x28, true))
  const shentsize = dv.getUint16(0x3a, true)
  const shnum = dv.getUint16(0x3c, true)
  const shstrndx = dv.getUint16(0x3e, true)
  const headers = Array.from({ length: shnum }, (_, i) => {
    const at = shoff + i * shentsize
    return {
      nameAt: dv.getUint32(at, true),
      type: dv.getUint32(at + 4, true),
      offset: Number(dv.getBigUint64(at + 24, true)),
      size: Number(dv.getBigUint64(at + 32, true)),
      link: dv.getUint32(at + 40, true),
      entsize: Number(dv.getBigUint64(at + 56, true)),
    }
  })
  const cstr = (at: number) => buf.toString('latin1', at, buf.indexOf(0, at))
  const strtab = (index: number, at: number) => cstr((headers[index]?.offset ?? 0) + at)
  const names = headers.map((h) => strtab(shstrndx, h.nameAt))
  const sections = new Map(headers.map((h, i) => [names[i] ?? '', h.size]))
  const symbols: ElfSymbol[] = []
  for (const h of headers.filter((x) => x.type === SHT_SYMTAB)) {
    for (let at = h.offset; at + h.entsize <= h.offset + h.size; at += h.entsize) {
      symbols.push({
        name: strtab(h.link, dv.getUint32(at, true)),
        section: names[dv.getUint16(at + 6, true)] ?? '',
        value: Number(dv.getBigUint64(at + 8, true)),
        size: Number(dv.getBigUint64(at + 16, true)),
      })
    }
  }
  return { sections, symbols }
}
