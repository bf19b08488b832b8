// Process names for events whose hook did not record one (ftrace prints `<...>`
// when the comm was not saved). Read from /proc while the task lives; cached
// briefly because retransmit bursts come from the same few tasks.
import { readFileSync } from 'node:fs'

const TTL_MS = 1000
const cache = new Map<number, { comm: string | null; at: number }>()

const tgids = new Map<number, { tgid: number; at: number }>()

/** The process (thread group) of a thread: ftrace records thread ids, bpf and
 *  the PID columns use the process id, as bcc does. */
export function tgidOfTid(tid: number, now = Date.now()): number {
  if (tid === 0) return 0
  const hit = tgids.get(tid)
  if (hit && now - hit.at < TTL_MS) return hit.tgid
  let tgid = tid
  try {
    const m = /^Tgid:\s*(\d+)/m.exec(readFileSync(`/proc/${tid}/status`, 'utf8'))
    if (m) tgid = Number(m[1])
  } catch {
    // thread gone: keep its id
  }
  if (tgids.size > 4096) tgids.clear()
  tgids.set(tid, { tgid, at: now })
  return tgid
}

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
