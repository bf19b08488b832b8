// The BPF programs and links a process holds, read from the fdinfo of its file
// descriptors, and the kernel's own statistics of a program (bpftool): ground
// truth about the tool's kernel objects without asking the tool.
import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'

export function bpfHeldBy(pid: number): { prog: Set<number>; link: Set<number> } {
  const ids = { prog: new Set<number>(), link: new Set<number>() }
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info = ''
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8')
    } catch {
      continue // closed meanwhile
    }
    const prog = /^prog_id:\s*(\d+)/m.exec(info)
    const link = /^link_id:\s*(\d+)/m.exec(info)
    if (link) ids.link.add(Number(link[1]))
    else if (prog) ids.prog.add(Number(prog[1]))
  }
  return ids
}

/** A program's name and recursion misses as `bpftool prog show` gives them. */
export function bpfProgram(id: number): { name: string; misses: number } {
  const p = JSON.parse(execFileSync('bpftool', ['prog', 'show', 'id', String(id), '-j'], { encoding: 'utf8' })) as { name: string; recursion_misses?: number }
  return { name: p.name, misses: p.recursion_misses ?? 0 }
}
