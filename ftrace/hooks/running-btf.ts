// The running kernel's BTF for checking the offsets kprobe fetch-args assume,
// read once per process; null where the kernel has none (then the offsets are
// assumed, as they have been stable for years).
import { existsSync } from 'node:fs'
import { Btf, VMLINUX_BTF } from '../../lib/kernel/btf.js'

let cached: { btf: Btf | null } | { error: string } | null = null

export function runningBtf(): { btf: Btf | null } | { error: string } {
  if (cached) return cached
  if (!existsSync(VMLINUX_BTF)) return (cached = { btf: null })
  try {
    cached = { btf: Btf.load() }
  } catch (err) {
    cached = { error: `cannot read ${VMLINUX_BTF} to check kernel struct offsets: ${(err as Error).message}` }
  }
  return cached
}
