// One private tracefs instance per run (instances/<run tag>): its own ring
// buffer, clock, options and event enables, so we never disturb the global
// trace or another tool. Removal is synchronous so it also works from a
// process 'exit' handler; instances of dead runs are removed on start.
import { readdirSync, readFileSync, rmdirSync, mkdirSync, writeFileSync, existsSync } from 'node:fs'
import { errnoCode, isPermissionDenied, PermissionError, RuntimeError } from '../lib/errors.js'
import { isRunAlive, parseRunTag } from '../lib/run-tag.js'

export class TraceInstance {
  readonly root: string
  readonly name: string
  #created = false

  constructor(tracefs: string, name: string) {
    this.name = name
    this.root = `${tracefs}/instances/${name}`
  }

  create(): void {
    try {
      mkdirSync(this.root)
    } catch (err) {
      if (isPermissionDenied(err)) {
        throw new PermissionError(`cannot create tracefs instance ${this.root}: needs CAP_SYS_ADMIN (run as root)`, { cause: err })
      }
      throw new RuntimeError(`cannot create tracefs instance ${this.root}: ${(err as Error).message}`, { cause: err })
    }
    this.#created = true
  }

  path(rel: string): string {
    return `${this.root}/${rel}`
  }

  write(rel: string, value: string): void {
    try {
      writeFileSync(this.path(rel), value)
    } catch (err) {
      throw new RuntimeError(`cannot write "${value.trim()}" to ${this.path(rel)}: ${tracefsError(this.root, err)}`, { cause: err })
    }
  }

  read(rel: string): string {
    return readFileSync(this.path(rel), 'utf8')
  }

  setOption(option: string, on: boolean): void {
    if (existsSync(this.path(`options/${option}`))) this.write(`options/${option}`, on ? '1' : '0')
  }

  /** Sets the event's filter (empty = none) and enables it in this instance only. */
  enableEvent(system: string, event: string, filter: string): void {
    if (filter) this.write(`events/${system}/${event}/filter`, filter)
    this.write(`events/${system}/${event}/enable`, '1')
  }

  /** Events lost in this instance: per-CPU ring-buffer overruns plus dropped events. */
  lostEvents(): number {
    return this.#sumStats(['overrun', 'commit overrun', 'dropped events'])
  }

  /** Events still in the ring buffer (not read yet), summed over CPUs. */
  unreadEntries(): number {
    return this.#sumStats(['entries'])
  }

  /** Sum of the `key: N` lines of every CPU's stats file. */
  #sumStats(keys: string[]): number {
    let n = 0
    let cpus: string[]
    try {
      cpus = readdirSync(this.path('per_cpu'))
    } catch {
      return 0
    }
    for (const cpu of cpus) {
      let stats: string
      try {
        stats = readFileSync(this.path(`per_cpu/${cpu}/stats`), 'utf8')
      } catch {
        continue // CPU went offline
      }
      for (const key of keys) n += statValue(stats, key)
    }
    return n
  }

  /** Disables tracing and removes the instance. Idempotent; never throws. */
  remove(): void {
    if (!this.#created) return
    removeInstanceDir(this.root)
    this.#created = false
  }
}

function statValue(stats: string, key: string): number {
  const m = new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(stats)
  return m ? Number(m[1]) : 0
}

function tracefsError(root: string, err: unknown): string {
  const code = errnoCode(err)
  if (code === 'EINVAL') {
    // The kernel explains filter and option errors in error_log.
    try {
      const log = readFileSync(`${root}/../../error_log`, 'utf8').trim().split('\n').slice(-2).join(' | ')
      if (log) return `invalid argument (${log.replace(/\s+/g, ' ')})`
    } catch {
      // no error_log on older kernels
    }
  }
  return (err as Error).message
}

function removeInstanceDir(root: string): void {
  try {
    writeFileSync(`${root}/tracing_on`, '0')
    writeFileSync(`${root}/events/enable`, '0')
  } catch {
    // already gone or half made: rmdir below decides
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      rmdirSync(root)
      return
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return
      if (errnoCode(err) !== 'EBUSY') return
      // EBUSY: a reader still holds trace_pipe open (closed right before); retry.
    }
  }
}

/** Removes the instances left by runs whose process is gone; returns their names. */
export function removeStaleInstances(tracefs: string): string[] {
  let names: string[]
  try {
    names = readdirSync(`${tracefs}/instances`)
  } catch {
    return []
  }
  const removed: string[] = []
  for (const name of names) {
    const tag = parseRunTag(name)
    if (!tag || isRunAlive(tag)) continue
    removeInstanceDir(`${tracefs}/instances/${name}`)
    if (!existsSync(`${tracefs}/instances/${name}`)) removed.push(name)
  }
  return removed
}
