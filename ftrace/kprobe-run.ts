// The kprobe side of one ftrace run: defines the run-tagged kprobe events,
// enables them in the run's instance, decodes their trace lines and removes
// the probes — after the instance, which the backend removes first.
import type { RunRequest } from '../lib/backend.js'
import type { Event } from '../lib/events.js'
import type { RunTag } from '../lib/run-tag.js'
import type { KprobeHook } from './hooks/kprobe-hook.js'
import { runningSockCommonLayout, type SockCommonLayout } from './hooks/sock-common-args.js'
import type { TraceInstance } from './instance.js'
import { KprobeEvents } from './kprobe-events.js'

export class KprobeRun {
  readonly #hooks: Map<string, KprobeHook>
  readonly #events: KprobeEvents
  readonly #layout: SockCommonLayout
  readonly #run: RunRequest
  /** Events printed with `-` for what could not be resolved. */
  unresolved = 0
  /** Trace lines of the probes that could not be read. */
  malformed = 0

  constructor(tracefs: string, tag: RunTag, hooks: readonly KprobeHook[], run: RunRequest) {
    const layout = runningSockCommonLayout()
    if (!layout.ok) throw new Error(layout.reason) // planning already refused this
    this.#layout = layout.layout
    this.#run = run
    this.#events = new KprobeEvents(tracefs)
    this.#hooks = new Map(hooks.map((h) => [`${tag.name}_${h.suffix}`, h]))
  }

  /** Defines the probes globally and enables them in `instance` only. */
  attach(instance: TraceInstance): void {
    for (const [event, hook] of this.#hooks) {
      this.#events.add({ event, symbol: hook.symbol, args: hook.args(this.#layout) })
      instance.enableEvent('kprobes', event, hook.kernelFilter(this.#run, this.#layout))
    }
  }

  /** The name of a hook's event in this run. */
  eventName(hook: KprobeHook): string {
    for (const [name, h] of this.#hooks) if (h === hook) return name
    throw new Error(`kprobe ${hook.symbol} is not part of this run`)
  }

  decode(line: { event: string; comm: string; pid: number; tsNs: bigint; body: string }): Event | null {
    const hook = this.#hooks.get(line.event)
    const decoded = hook?.decode(line)
    if (!decoded) {
      this.malformed++
      return null
    }
    if (decoded.unresolved) this.unresolved++
    return decoded.event
  }

  /** Removes the probes (the instance must be gone). Never throws. */
  remove(): void {
    this.#events.removeAll()
  }
}
