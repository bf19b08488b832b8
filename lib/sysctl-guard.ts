// The only sysctl the tools ever change, and only with --allow-sysctl:
// kernel.kptr_restrict, set to 1 for the run so that /proc/net/tcp and
// /proc/kallsyms show raw pointers to root (socket joins, symbols) when the
// system hides them. The old value is recorded under the run's tag before it
// is changed, restored on every exit path, and restored by the next run when
// this one died (SPEC §2).
import { mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs'
import { isRunAlive, parseRunTag, type RunTag } from './run-tag.js'

export const STATE_DIR = '/run/netdrop-tools'
const KPTR_RESTRICT = '/proc/sys/kernel/kptr_restrict'

export interface SysctlChange {
  /** Puts the old value back (idempotent, synchronous). */
  restore(): void
  description: string
}

function readValue(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return null
  }
}

/** Sets kptr_restrict to 1 for this run; null when it already is 1 (or unreadable). */
export function relaxKptrRestrict(tag: RunTag): SysctlChange | null {
  const old = readValue(KPTR_RESTRICT)
  if (old === null || old === '1') return null
  const record = `${STATE_DIR}/${tag.name}.sysctl`
  mkdirSync(STATE_DIR, { recursive: true })
  writeFileSync(record, `${KPTR_RESTRICT}=${old}\n`)
  writeFileSync(KPTR_RESTRICT, '1')
  let restored = false
  return {
    description: `kernel.kptr_restrict ${old} → 1 for this run (--allow-sysctl)`,
    restore: () => {
      if (restored) return
      restored = true
      try {
        writeFileSync(KPTR_RESTRICT, old)
        unlinkSync(record)
      } catch {
        // the next run restores it from the record
      }
    },
  }
}

/** Restores what runs that died had changed; returns one line per restore. */
export function restoreDeadRuns(): string[] {
  let files: string[]
  try {
    files = readdirSync(STATE_DIR).filter((f) => f.endsWith('.sysctl'))
  } catch {
    return []
  }
  const said: string[] = []
  for (const file of files) {
    const tag = parseRunTag(file.replace(/\.sysctl$/, ''))
    if (!tag || isRunAlive(tag)) continue
    const path = `${STATE_DIR}/${file}`
    for (const line of (readValue(path) ?? '').split('\n')) {
      const m = /^(\/proc\/sys\/[\w/]+)=(.*)$/.exec(line)
      if (!m || !m[1]) continue
      try {
        writeFileSync(m[1], m[2] ?? '')
        said.push(`restored ${m[1].replace('/proc/sys/', '').replace(/\//g, '.')}=${m[2]} changed by run ${tag.name}, which no longer exists`)
      } catch (err) {
        said.push(`could not restore ${m[1]}=${m[2]} of run ${tag.name}: ${(err as Error).message}`)
      }
    }
    try {
      unlinkSync(path)
    } catch {
      // already gone
    }
  }
  return said
}
