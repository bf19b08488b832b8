// One run of the ftrace backend: a private tracefs instance with the chosen
// tracepoints (or hist triggers counting them) and run-tagged kprobe events,
// read from its trace_pipe. close() stops tracing, reads what is left, counts
// what could not be read as lost and removes every object it created.
import type { Run, RunRequest, RunStats, StartContext } from '../lib/backend.js'
import type { KindRequest, StackRequest } from '../lib/events.js'
import { runTag } from '../lib/run-tag.js'
import { HistDeltas, parseHist } from './hist-trigger.js'
import type { HistCounting, TracepointHook, TracepointPlan, TracepointRun } from './hooks/hook.js'
import type { KprobeHook } from './hooks/kprobe-hook.js'
import { removeStaleInstances, TraceInstance } from './instance.js'
import { removeStaleKprobes } from './kprobe-events.js'
import { KprobeRun } from './kprobe-run.js'
import { LineDispatcher, type Route } from './line-dispatcher.js'
import { TracePipeReader } from './pipe-reader.js'

/** A kind the run traces, and the hook chosen for it at probe time. */
export type ChosenHook =
  | { type: 'tracepoint'; request: KindRequest; hook: TracepointHook; plan: TracepointPlan }
  | { type: 'kprobe'; request: KindRequest; hook: KprobeHook }

interface Counted {
  dir: string
  counting: HistCounting
  deltas: HistDeltas
  dropped: number
}

function stackOf(request: KindRequest): StackRequest | null {
  return 'stack' in request.options ? request.options.stack : null
}

export class FtraceRun implements Run {
  readonly #ctx: StartContext
  readonly #instance: TraceInstance
  readonly #tracepoints: Array<{ hook: TracepointHook; run: TracepointRun; stack: StackRequest | null }>
  readonly #kprobes: KprobeRun | null
  readonly #counted: Counted[] = []
  readonly #dispatcher: LineDispatcher
  #reader: TracePipeReader | null = null
  #finalLost: number | null = null
  #closed = false

  private constructor(run: RunRequest, tracefs: string, chosen: readonly ChosenHook[], ctx: StartContext) {
    this.#ctx = ctx
    const tag = runTag(run.tool)
    this.#instance = new TraceInstance(tracefs, tag.name)
    this.#tracepoints = chosen.flatMap((c) => (c.type === 'tracepoint' ? [{ hook: c.hook, run: c.plan.open(), stack: stackOf(c.request) }] : []))
    const kprobes = chosen.flatMap((c) => (c.type === 'kprobe' ? [c] : []))
    this.#kprobes = kprobes.length > 0 ? new KprobeRun(tracefs, tag, kprobes.map((c) => c.hook), run) : null
    const routes = new Map<string, Route>()
    for (const t of this.#tracepoints) routes.set(t.hook.event, { decode: (line) => t.run.decode(line), stack: t.stack })
    for (const c of kprobes) routes.set(this.#kprobes?.eventName(c.hook) ?? '', { decode: (line) => this.#kprobes?.decode(line) ?? null, stack: stackOf(c.request) })
    this.#dispatcher = new LineDispatcher(routes, ctx.sink)
  }

  static start(run: RunRequest, tracefs: string, chosen: readonly ChosenHook[], ctx: StartContext): FtraceRun {
    for (const name of removeStaleInstances(tracefs)) ctx.notice(`removed tracefs instance ${name} of a run that no longer exists`)
    // Their instances are gone now, so the probes are no longer enabled anywhere.
    for (const name of removeStaleKprobes(tracefs)) ctx.notice(`removed kprobe event ${name} of a run that no longer exists`)
    const self = new FtraceRun(run, tracefs, chosen, ctx)
    try {
      self.#attach(run.bufferKb, chosen.some((c) => stackOf(c.request) !== null))
      self.#read()
      setTimeout(() => {
        if (!self.#closed) for (const t of self.#tracepoints) t.run.warm?.()
      }, 0)
    } catch (err) {
      self.close()
      throw err
    }
    return self
  }

  #attach(bufferKb: number, wantStack: boolean): void {
    const instance = this.#instance
    instance.create()
    instance.write('trace_clock', 'mono')
    instance.write('buffer_size_kb', String(bufferKb))
    instance.setOption('irq-info', true)
    instance.setOption('record-tgid', false)
    instance.setOption('sym-offset', true)
    instance.setOption('stacktrace', wantStack)
    for (const { hook, run } of this.#tracepoints) {
      for (const [option, on] of Object.entries(run.instanceOptions ?? {})) instance.setOption(option, on)
      if (run.counting) {
        // The trigger soft-enables the event: counted, never written to the buffer.
        const dir = `events/${hook.system}/${hook.event}`
        instance.write(`${dir}/trigger`, run.counting.trigger)
        this.#counted.push({ dir, counting: run.counting, deltas: new HistDeltas(), dropped: 0 })
      } else {
        instance.enableEvent(hook.system, hook.event, run.kernelFilter)
      }
    }
    this.#kprobes?.attach(instance)
    instance.write('tracing_on', '1')
  }

  #read(): void {
    this.#reader = new TracePipeReader(this.#instance.path('trace_pipe'), {
      lines: (lines) => this.#dispatcher.lines(lines),
      drained: () => {
        this.#dispatcher.drained()
        this.#ctx.sink.batchEnd()
      },
      ready: () => this.#ctx.sink.ready(),
      error: (err) => this.#ctx.fail(err),
    })
    this.#reader.start()
  }

  /** Hooks counted by a hist trigger are read per interval. */
  sample(): void {
    if (this.#counted.length === 0 || this.#closed) return
    for (const c of this.#counted) {
      const table = parseHist(this.#instance.read(`${c.dir}/hist`))
      c.dropped = table.dropped
      for (const { entry, delta } of c.deltas.next(table)) {
        const e = c.counting.decode(entry, delta)
        if (e) this.#ctx.sink.event(e)
      }
    }
    this.#ctx.sink.batchEnd()
  }

  stats(): RunStats {
    const hookStats = this.#tracepoints.map((t) => t.run.stats?.() ?? { unresolved: 0 })
    return {
      lost: this.#finalLost ?? this.#instance.lostEvents() + this.#histDropped(),
      unresolved: (this.#kprobes?.unresolved ?? 0) + hookStats.reduce((n, s) => n + s.unresolved, 0),
      hidden: hookStats.reduce((n, s) => n + (s.hidden ?? 0), 0),
      malformed: this.#dispatcher.malformed + (this.#kprobes?.malformed ?? 0),
    }
  }

  #histDropped(): number {
    return this.#counted.reduce((n, c) => n + c.dropped, 0)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    const instance = this.#instance
    try {
      instance.write('tracing_on', '0') // nothing new while the rest is read
      this.#reader?.drainNow()
      this.#dispatcher.flush()
      this.#ctx.sink.batchEnd()
      // Whatever could not be read before closing is lost too, and said so.
      this.#finalLost = instance.lostEvents() + instance.unreadEntries() + this.#histDropped()
    } catch {
      // closing must release the kernel objects whatever happened before
    }
    this.#reader?.stop()
    for (const c of this.#counted) {
      try {
        instance.write(`${c.dir}/trigger`, `!${c.counting.trigger}`)
      } catch {
        // removing the instance removes its triggers too
      }
    }
    // The probes are enabled in the instance: removing them first would fail with EBUSY.
    instance.remove()
    this.#kprobes?.remove()
  }
}
