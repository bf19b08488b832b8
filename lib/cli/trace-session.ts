// One traced run on one backend, top to bottom: start the output and the
// backend, announce, run the timers until something asks to stop (duration,
// -n, a signal, a closed stdout, a failure), then drain, release every kernel
// object and print the summary.
import type { Run } from '../backend.js'
import type { CounterSnapshot, KernelCounts, NetCounters } from '../kernel/net-counters.js'
import { BackendStartError } from '../errors.js'
import { userSpaceFilterFor } from '../filters.js'
import { EventClock } from '../format/clock.js'
import { RateLimiter } from '../rate-limit.js'
import type { Probed } from '../select-backend.js'
import { collectStartupGarbage } from '../startup-garbage.js'
import type { ToolDefinition, ToolOutput } from '../tools/tool.js'
import { bannerLines } from './banner.js'
import { EventPipeline } from './event-pipeline.js'
import { IntervalTimer } from './interval-timer.js'
import { RunReports } from './run-reports.js'
import { StdoutWriter } from './stdout-writer.js'
import type { ToolSetup } from './tool-setup.js'
import type { ToolProcess } from './tool-process.js'
import { mark, startupLine } from './startup-marks.js'

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGPIPE']

export class TraceSession<O> {
  readonly #tool: ToolDefinition<O>
  readonly #proc: ToolProcess
  readonly #setup: ToolSetup<O>
  readonly #probed: Probed
  readonly #startedAt = Date.now()
  readonly #writer: StdoutWriter
  readonly #output: ToolOutput
  readonly #limiter: RateLimiter
  readonly #pipeline: EventPipeline
  readonly #reports: RunReports
  readonly #stopped: Promise<Error | undefined>
  #stop: (err?: Error) => void = () => {}
  #run: Run | null = null
  #timers: NodeJS.Timeout[] = []
  #intervals: IntervalTimer | null = null
  /** The kernel's counters of the traced namespace, read when tracing starts and at each interval. */
  #counters: NetCounters | null = null
  #countersAtStart: CounterSnapshot | null = null
  #countersAtInterval: CounterSnapshot | null = null

  constructor(tool: ToolDefinition<O>, proc: ToolProcess, setup: ToolSetup<O>, probed: Probed) {
    this.#tool = tool
    this.#proc = proc
    this.#setup = setup
    this.#probed = probed
    this.#stopped = new Promise((resolve) => (this.#stop = resolve))
    this.#writer = new StdoutWriter(proc.stdout, () => this.#stop())
    const common = setup.common
    this.#output = tool.createOutput({
      common,
      options: setup.options,
      backend: probed.backend,
      clock: new EventClock(),
      out: (t) => this.#writer.write(t),
      note: (t) => this.#note(t),
      unseenCounters: new Set(probed.report.kinds.filter((k) => k.usable).flatMap((k) => k.unseenCounters ?? [])),
    })
    // Backends that enforce --rate-limit in the kernel report what they suppressed.
    this.#limiter = new RateLimiter(this.#output.perEvent && !probed.report.rateLimitInKernel ? common.rateLimit : 0)
    this.#pipeline = new EventPipeline({
      keep: userSpaceFilterFor(common.filters, probed.report.kinds.filter((k) => k.usable)),
      limiter: this.#limiter,
      output: this.#output,
      writer: this.#writer,
      maxEvents: tool.maxCounts === 'events' ? common.maxEvents : null,
      onLimit: () => this.#stop(),
    })
    this.#reports = new RunReports({
      writer: this.#writer,
      warn: (m) => this.#warn(m),
      limiter: this.#limiter,
      json: common.json,
      lostRecords: tool.perEventTool && common.json,
    })
  }

  /** Traces until stopped; resolves with the exit code. */
  async trace(): Promise<number> {
    const onSignal = () => this.#stop()
    const onExit = () => this.#run?.close()
    for (const s of STOP_SIGNALS) this.#proc.on(s, onSignal)
    this.#proc.on('exit', onExit)
    try {
      await this.#output.start?.()
      const run = await this.#startBackend()
      mark('started')
      if (this.#output.kernelCounters) this.#counters = this.#proc.kernelCounters?.(this.#setup.common.filters.netns) ?? null
      this.#countersAtStart = this.#countersAtInterval = this.#counters?.snapshot() ?? null
      if (this.#counters && !this.#countersAtStart) this.#warn(`the kernel's counters of netns ${this.#counters.netns} cannot be read (/proc/net/snmp inside it): they are not shown`)
      this.#announce()
      this.#startTimers(run)
      const failure = await this.#stopped
      return await this.#finish(run, failure)
    } finally {
      this.#stopTimers()
      this.#run?.close()
      this.#output.close?.()
      for (const s of STOP_SIGNALS) this.#proc.off(s, onSignal)
      this.#proc.off('exit', onExit)
    }
  }

  async #startBackend(): Promise<Run> {
    try {
      this.#run = await this.#probed.start({
        sink: this.#pipeline,
        notice: (m) => this.#warn(m),
        fail: (err) => this.#stop(err),
      })
    } catch (err) {
      throw new BackendStartError(this.#probed.backend, err)
    }
    // After the backend's own deferred start-up work (symbols, reasons), same tick order.
    this.#timers.push(setTimeout(collectStartupGarbage, 0))
    return this.#run
  }

  #announce(): void {
    // One write, so that a reader of the pipe never sees the first line without the rest.
    this.#note(bannerLines(this.#tool, this.#probed.report, this.#setup.kinds).join('\n'))
    mark('attached')
    if (this.#setup.common.debug || process.env.NETDROP_STARTUP) this.#warn(startupLine())
    this.#output.header()
    this.#writer.flush()
  }

  #startTimers(run: Run): void {
    const { durationS, maxEvents } = this.#setup.common
    if (durationS !== null) this.#timers.push(setTimeout(() => this.#stop(), durationS * 1000))
    const seconds = this.#tool.intervalSeconds(this.#setup.options)
    const countsIntervals = this.#tool.maxCounts === 'intervals' && maxEvents !== null
    if (seconds !== null && this.#output.interval) {
      let intervals = 0
      this.#intervals = new IntervalTimer(seconds, () => {
        run.sample?.()
        this.#output.interval?.({ lost: run.stats().lost, kernel: this.#intervalCounts() })
        this.#writer.flush()
        intervals++
        if (!countsIntervals || intervals < (maxEvents ?? 0)) return true
        this.#pipeline.done = true
        this.#stop()
        return false
      })
    }
    this.#timers.push(
      setInterval(() => {
        this.#reports.report(run)
        this.#writer.flush()
      }, 1000),
    )
  }

  /** The kernel's counts since the previous interval, for outputs that show them each interval. */
  #intervalCounts(): KernelCounts | null {
    if (!this.#counters || this.#output.kernelCounters !== 'intervals') return null
    const now = this.#counters.snapshot()
    const counts = this.#counters.between(this.#countersAtInterval, now)
    this.#countersAtInterval = now
    return counts
  }

  #stopTimers(): void {
    for (const t of this.#timers) clearInterval(t)
    this.#intervals?.stop()
  }

  async #finish(run: Run, failure: Error | undefined): Promise<number> {
    this.#stopTimers()
    const done = this.#pipeline.done || this.#writer.closed
    this.#pipeline.done = done
    // Counts gathered since the last interval belong in the summary, unless
    // the run ended because enough was printed or nobody reads any more.
    if (!done) run.sample?.()
    const kernel = this.#counters?.between(this.#countersAtStart, this.#counters.snapshot()) ?? null
    run.close()
    this.#run = null // closed: the exit paths below need not close it again
    if (failure) throw failure
    const stats = run.stats()
    this.#reports.report(run, stats)
    this.#output.finish({
      lost: stats.lost,
      suppressed: this.#limiter.total + (stats.suppressed ?? 0),
      unresolved: stats.unresolved,
      hidden: stats.hidden ?? 0,
      durationS: Math.round((Date.now() - this.#startedAt) / 100) / 10,
      kernel,
    })
    if (stats.malformed > 0 && this.#setup.common.debug) this.#warn(`${stats.malformed} trace lines could not be parsed`)
    await this.#writer.end()
    return 0
  }

  /** stdout is flushed first so a note on stderr follows the output it sums up. */
  #note(text: string): void {
    this.#writer.flush()
    if (!this.#setup.common.quiet) this.#proc.stderr.write(text + '\n')
  }

  #warn(text: string): void {
    this.#proc.stderr.write(`${this.#tool.name}: ${text}\n`)
  }
}
