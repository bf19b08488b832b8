// Process names for events whose hook did not record one (ftrace prints `<...>`
// when the comm was not saved). Read from /proc while the task lives; cached
// briefly because retransmit bursts come from the same few tasks.
import { readFileSync } from 'node:fs'

const TTL_MS = 1000
const cache = new Map<number, { comm: string | null; at: number }>()

export function commOfPid(pid: number, now = Date.now()): string | null {
  const hit = cache.get(pid)
  if (hit && now - hit.at < TTL_MS) return hit.comm
  let comm: string | null
  try {
    comm = readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '')
  } catch {
    comm = null
  }
  if (cache.size > 4096) cache.clear()
  cache.set(pid, { comm, at: now })
  return comm
}
