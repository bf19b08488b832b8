// Effective capabilities of this process, read from /proc/self/status, so a
// backend can say "needs CAP_BPF" instead of failing later with EPERM.
import { readFileSync } from 'node:fs'

export const CAP = {
  SYS_ADMIN: 21,
  SYS_PTRACE: 19,
  DAC_READ_SEARCH: 2,
  SYSLOG: 34,
  PERFMON: 38,
  BPF: 39,
} as const

let cached: bigint | null = null

function effective(): bigint {
  if (cached !== null) return cached
  try {
    const status = readFileSync('/proc/self/status', 'utf8')
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)
    cached = m?.[1] ? BigInt(`0x${m[1]}`) : 0n
  } catch {
    cached = 0n
  }
  return cached
}

export function hasCapability(cap: number): boolean {
  return (effective() & (1n << BigInt(cap))) !== 0n
}
