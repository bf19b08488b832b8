// Names of the kernel objects a run creates. They carry the PID and the process
// start time, so a later run can tell a live owner from a dead one even after
// the PID was reused (SPEC §3).
import { readFileSync } from 'node:fs'

export const TAG_PREFIX = 'netdrop'

export interface RunTag {
  tool: string
  pid: number
  startTime: number
  /** `netdrop_<tool>_<pid>_<starttime>`: valid as a tracefs instance and a kprobe event name. */
  name: string
}

/** Start time of a process in clock ticks since boot (field 22 of /proc/PID/stat); null if gone. */
export function processStartTime(pid: number | 'self'): number | null {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // comm (field 2) may contain spaces and parentheses: fields resume after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const value = Number(rest[19]) // field 22 is the 20th after comm and state
  return Number.isFinite(value) ? value : null
}

export function runTag(tool: string): RunTag {
  const pid = process.pid
  const startTime = processStartTime('self') ?? 0
  return { tool, pid, startTime, name: `${TAG_PREFIX}_${tool}_${pid}_${startTime}` }
}

export function parseRunTag(name: string): RunTag | null {
  const m = /^netdrop_([a-z]+)_(\d+)_(\d+)/.exec(name)
  if (!m) return null
  return { tool: m[1] ?? '', pid: Number(m[2]), startTime: Number(m[3]), name }
}

/** True when the process that owns the tag still runs (same PID, same start time). */
export function isRunAlive(tag: RunTag): boolean {
  return processStartTime(tag.pid) === tag.startTime
}
