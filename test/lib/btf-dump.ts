// Struct layouts from the BTF of a compiled BPF object, via `bpftool btf dump`.
import { execFileSync } from 'node:child_process'

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

export function structLayouts(objectPath: string): Map<string, StructLayout> {
  const text = execFileSync('bpftool', ['btf', 'dump', 'file', objectPath, 'format', 'raw'], { encoding: 'utf8' })
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
