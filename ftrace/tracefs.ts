// Finding tracefs, and mounting it when nobody has (SPEC: the tools must do it
// themselves). Mount points are read from /proc/mounts; the classic locations
// are tried in order.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { PermissionError, RuntimeError } from '../lib/errors.js'
import { CAP, hasCapability } from '../lib/kernel/capabilities.js'

export const TRACEFS_MOUNT_POINT = '/sys/kernel/tracing'
const DEBUGFS_TRACING = '/sys/kernel/debug/tracing'

/** The tracefs root if one is mounted (and has the files we need), else null. */
export function findTracefs(mountsText?: string): string | null {
  let mounts = mountsText
  if (mounts === undefined) {
    try {
      mounts = readFileSync('/proc/mounts', 'utf8')
    } catch {
      mounts = ''
    }
  }
  const candidates: string[] = []
  for (const line of mounts.split('\n')) {
    const [, mountPoint, fsType] = line.split(' ')
    if (!mountPoint) continue
    const path = mountPoint.replace(/\\040/g, ' ')
    if (fsType === 'tracefs') candidates.push(path)
    if (fsType === 'debugfs') candidates.push(`${path}/tracing`)
  }
  // Prefer the canonical place when it is mounted.
  candidates.sort((a, b) => Number(b === TRACEFS_MOUNT_POINT) - Number(a === TRACEFS_MOUNT_POINT))
  return candidates.find((p) => existsSync(`${p}/trace_pipe`)) ?? null
}

/** The tracefs root, mounting tracefs at /sys/kernel/tracing when it is absent. */
export function ensureTracefs(): string {
  const found = findTracefs()
  if (found) return found
  if (!hasCapability(CAP.SYS_ADMIN)) {
    throw new PermissionError('tracefs is not mounted and mounting it needs CAP_SYS_ADMIN (run as root)')
  }
  if (!existsSync(TRACEFS_MOUNT_POINT)) {
    throw new RuntimeError(`cannot mount tracefs: ${TRACEFS_MOUNT_POINT} does not exist (kernel without CONFIG_TRACING?)`)
  }
  try {
    execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS_MOUNT_POINT], { stdio: ['ignore', 'ignore', 'pipe'] })
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim()
    throw new RuntimeError(`cannot mount tracefs at ${TRACEFS_MOUNT_POINT}: ${stderr || String(err)}`)
  }
  const mounted = findTracefs()
  if (mounted) return mounted
  if (existsSync(`${DEBUGFS_TRACING}/trace_pipe`)) return DEBUGFS_TRACING
  throw new RuntimeError(`mounted tracefs at ${TRACEFS_MOUNT_POINT} but it has no trace_pipe`)
}
