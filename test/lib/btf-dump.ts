// Struct layouts from the BTF of a compiled BPF object, via `bpftool btf dump`.
import { execFileSync } from 'node:child_process'
import { elfContents } from './elf-symbols.js'

export interface StructLayout {
  size: number
  /** member name → byte offset */
  members: Map<string, number>
}

export function bpftoolAvailable(): boolean {
  try {
    execFileSync('bpftool', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

function rawBtf(objectPath: string): string {
  return execFileSync('bpftool', ['btf', 'dump', 'file', objectPath, 'format', 'raw'], { encoding: 'utf8' })
}

export function structLayouts(objectPath: string): Map<string, StructLayout> {
  const text = rawBtf(objectPath)
  const out = new Map<string, StructLayout>()
  let current: StructLayout | null = null
  for (const line of text.split('\n')) {
    const head = /^\[\d+\] STRUCT '([^']+)' size=(\d+)/.exec(line)
    if (head) {
      current = { size: Number(head[2]), members: new Map() }
      out.set(head[1] ?? '', current)
      continue
    }
    const member = /^\s+'([^']*)' type_id=\d+ bits_offset=(\d+)/.exec(line)
    if (member && current) {
      current.members.set(member[1] ?? '', Number(member[2]) / 8)
      continue
    }
    if (!line.startsWith('\t')) current = null
  }
  return out
}

export interface DatasecVar {
  /** the struct (or other named type) behind const volatile */
  type: string
  offset: number
  size: number
}

export interface DatasecLayout {
  size: number
  vars: Map<string, DatasecVar>
}

/** A data section's variables as libbpf completes its DATASEC at open: clang
 *  leaves the section size and every variable offset 0 in the object's BTF, so
 *  they come from the ELF section and symbol table, as in libbpf. */
export function datasecLayout(objectPath: string, section: string): DatasecLayout {
  const types = new Map<number, { kind: string; name: string; typeId: number }>()
  const varIds: number[] = []
  let inSection = false
  for (const line of rawBtf(objectPath).split('\n')) {
    const head = /^\[(\d+)\] (\w+) '([^']*)'(?: type_id=(\d+))?/.exec(line)
    if (head) {
      types.set(Number(head[1]), { kind: head[2] ?? '', name: head[3] ?? '', typeId: Number(head[4] ?? 0) })
      inSection = head[2] === 'DATASEC' && head[3] === section
      continue
    }
    const v = /^\s+type_id=(\d+) offset=\d+ size=\d+/.exec(line)
    if (v && inSection) varIds.push(Number(v[1]))
  }
  const typeName = (id: number): string => {
    for (let t = types.get(id); t; t = types.get(t.typeId)) {
      if (!['VAR', 'CONST', 'VOLATILE'].includes(t.kind)) return t.name
    }
    return ''
  }
  const elf = elfContents(objectPath)
  const vars = new Map<string, DatasecVar>()
  for (const id of varIds) {
    const name = types.get(id)?.name ?? ''
    const sym = elf.symbols.find((s) => s.name === name && s.section === section)
    vars.set(name, { type: typeName(id), offset: sym?.value ?? -1, size: sym?.size ?? -1 })
  }
  return { size: elf.sections.get(section) ?? -1, vars }
}
