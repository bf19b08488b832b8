// kprobe events of one run. Instances have no kprobe_events of their own, so
// the definitions go into the GLOBAL kprobe_events (always appended: opening
// it without O_APPEND would delete every kprobe on the system), named with the
// run tag, and are enabled only inside the run's instance. Removal order
// matters: the instance (where they are enabled) goes first, then `-:name`
// (EBUSY while enabled anywhere). Synchronous, so close() works from 'exit'.
import { appendFileSync, readFileSync } from 'node:fs'
import { errnoCode, isPermissionDenied, PermissionError, RuntimeError } from '../lib/errors.js'
import { isRunAlive, parseRunTag } from '../lib/run-tag.js'

export const KPROBE_GROUP = 'kprobes'

export interface KprobeDefinition {
  /** Event name: the run tag plus a suffix, [A-Za-z0-9_] only. */
  event: string
  symbol: string
  /** `name=fetcharg[:type]` strings. */
  args: string[]
}

/** The line written to kprobe_events. */
export function kprobeDefinitionLine(d: KprobeDefinition): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(d.event)) throw new Error(`invalid kprobe event name ${d.event}`)
  return [`p:${KPROBE_GROUP}/${d.event}`, d.symbol, ...d.args].join(' ')
}

/** `p:kprobes/NAME sym args` (as kprobe_events lists them) → NAME of our group. */
export function parseKprobeEventsLine(line: string): string | null {
  const m = /^[pr]:([A-Za-z0-9_]+)\/([A-Za-z0-9_]+)\s/.exec(line)
  return m && m[1] === KPROBE_GROUP ? (m[2] ?? null) : null
}

function errorLogTail(tracefs: string): string {
  try {
    const tail = readFileSync(`${tracefs}/error_log`, 'utf8').trim().split('\n').slice(-3).join(' ').replace(/\s+/g, ' ')
    return tail ? ` (${tail})` : ''
  } catch {
    return ''
  }
}

export class KprobeEvents {
  readonly #file: string
  readonly #tracefs: string
  readonly #defined: string[] = []

  constructor(tracefs: string) {
    this.#tracefs = tracefs
    this.#file = `${tracefs}/kprobe_events`
  }

  add(d: KprobeDefinition): void {
    const line = kprobeDefinitionLine(d)
    try {
      appendFileSync(this.#file, line + '\n')
    } catch (err) {
      if (isPermissionDenied(err)) throw new PermissionError(`cannot write ${this.#file}: needs CAP_SYS_ADMIN (run as root)`, { cause: err })
      const why = errnoCode(err) === 'ENOENT' ? `${d.symbol} cannot be probed` : (err as Error).message
      throw new RuntimeError(`cannot define kprobe "${line}": ${why}${errorLogTail(this.#tracefs)}`, { cause: err })
    }
    this.#defined.push(d.event)
  }

  get events(): readonly string[] {
    return this.#defined
  }

  /** Removes this run's probes, newest first. Call after the instance is gone. Never throws. */
  removeAll(): void {
    while (this.#defined.length > 0) {
      const event = this.#defined.pop()
      if (event) removeKprobe(this.#file, event)
    }
  }
}

function removeKprobe(file: string, event: string): boolean {
  try {
    appendFileSync(file, `-:${KPROBE_GROUP}/${event}\n`)
    return true
  } catch (err) {
    return errnoCode(err) === 'ENOENT'
  }
}

/** Removes kprobes left by dead runs (their instances must be gone already); returns their names. */
export function removeStaleKprobes(tracefs: string): string[] {
  let text: string
  try {
    text = readFileSync(`${tracefs}/kprobe_events`, 'utf8')
  } catch {
    return []
  }
  const removed: string[] = []
  for (const line of text.split('\n')) {
    const event = parseKprobeEventsLine(line)
    const tag = event ? parseRunTag(event) : null
    if (!event || !tag || isRunAlive(tag)) continue
    if (removeKprobe(`${tracefs}/kprobe_events`, event)) removed.push(event)
  }
  return removed
}
