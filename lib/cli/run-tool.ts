// Runs one tool: parse → select backend → start → events through the
// user-space filter and rate limit into the tool's output → stop on duration,
// count, signal or closed stdout → release every kernel object → summary.
import type { Backend, BackendReport, Run, RunRequest, RunStats } from '../backend.js'
import type { Event } from '../events.js'
import { userSpaceFilter, type FilterName } from '../filters.js'
import { EventClock } from '../format/clock.js'
import { jsonLine } from '../format/json.js'
import { LazyBackend } from '../lazy-backend.js'
import { RateLimiter } from '../rate-limit.js'
import { BackendStartError } from '../errors.js'
import { runTag } from '../run-tag.js'
import { relaxKptrRestrict, restoreDeadRuns } from '../sysctl-guard.js'
import { probeAll, rank, selectBackend } from '../select-backend.js'
import { collectStartupGarbage } from '../startup-garbage.js'
import type { ToolDefinition } from '../tools/tool.js'
import { parseCommonOptions, type CommonOptions } from './common-options.js'
import { formatBackendReports } from './list-backends.js'
import { parseArgs } from './parse-args.js'
import { StdoutWriter } from './stdout-writer.js'

export interface ToolProcess {
  argv: readonly string[]
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
  on(signal: NodeJS.Signals | 'exit', listener: () => void): unknown
  off(signal: NodeJS.Signals | 'exit', listener: () => void): unknown
}

/** Past this much unread stdout, backends stop reading the kernel buffers. */
const MAX_STDOUT_BACKLOG = 8 * 1024 * 1024

const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGPIPE']

export function defaultBackends(): Backend[] {
  return [
    new LazyBackend('bpf', async () => new (await import('../../bpf/backend.js')).BpfBackend()),
    new LazyBackend('ftrace', async () => new (await import('../../ftrace/backend.js')).FtraceBackend()),
  ]
}

/** Runs the tool and resolves with the exit code (errors are thrown as ToolErrors). */
export async function runTool(tool: ToolDefinition, proc: ToolProcess, backends = defaultBackends()): Promise<number> {
  const parsed = await parseArgs(tool, proc.argv)
  if (parsed.kind === 'printed') {
    proc.stdout.write(parsed.text + '\n')
    return 0
  }
  const args = parsed.args
  const common = parseCommonOptions(args, tool.perEventTool)
  tool.validate(args, common)
  const request = (kinds = tool.kinds(args)): RunRequest => ({
    tool: tool.name,
    kinds,
    fields: tool.fields(args),
    filters: common.filters,
    hookType: common.hookType,
    includeFailed: tool.includeFailed(args),
    hideNotSpecified: tool.hidesNotSpecified?.(args) ?? false,
    owner: Boolean(args.owner),
    rateLimit: tool.printsEachEvent(args) ? common.rateLimit : 0,
    stackRate: typeof args['stack-rate'] === 'number' ? args['stack-rate'] : 0,
    stackDepth: typeof args['stack-depth'] === 'number' ? args['stack-depth'] : 16,
    bufferKb: common.bufferKb,
    debug: common.debug,
  })

  if (common.listBackends) {
    const req = request(tool.allKinds(args))
    const candidates = common.backend === 'auto' ? backends : backends.filter((b) => b.name === common.backend)
    const reports = await probeAll(candidates, req)
    const selected = rank(reports)[0]?.backend ?? null
    proc.stdout.write(formatBackendReports(tool.name, reports, req.kinds, selected, common.json))
    return 0
  }

  // A dead run's sysctl change is undone whatever this run does.
  for (const line of restoreDeadRuns()) proc.stderr.write(`${tool.name}: ${line}\n`)
  const sysctl = common.allowSysctl ? relaxKptrRestrict(runTag(tool.name)) : null
  if (sysctl) {
    if (!common.quiet) proc.stderr.write(`${tool.name}: ${sysctl.description}\n`)
    proc.on('exit', sysctl.restore)
  }
  try {
    return await selectAndTrace(tool, proc, common, args, backends, request())
  } finally {
    sysctl?.restore()
    if (sysctl) proc.off('exit', sysctl.restore)
  }
}

async function selectAndTrace(
  tool: ToolDefinition,
  proc: ToolProcess,
  common: CommonOptions,
  args: Record<string, unknown>,
  backends: Backend[],
  req: RunRequest,
): Promise<number> {
  const selection = await selectBackend(backends, common.backend, req, tool.name)
  let current: { backend: Backend; report: BackendReport } = selection
  let fallbacks: Array<{ backend: Backend; report: BackendReport }> | null = null
  for (;;) {
    try {
      return await traceUntilStopped(tool, proc, common, args, current.backend, current.report, req)
    } catch (err) {
      // With --backend auto, a backend that fails to load or attach hands over to the next one.
      if (!(err instanceof BackendStartError) || err.exitCode === 3) throw err
      fallbacks ??= await selection.fallbacks()
      const next = fallbacks.shift()
      if (!next) throw err
      proc.stderr.write(`${tool.name}: ${err.message}; falling back to ${next.backend.name}\n`)
      current = next
    }
  }
}

async function traceUntilStopped(
  tool: ToolDefinition,
  proc: ToolProcess,
  common: CommonOptions,
  args: Record<string, unknown>,
  backend: Backend,
  report: Awaited<ReturnType<Backend['probe']>>,
  req: RunRequest,
): Promise<number> {
  // stdout is flushed first so a summary on stderr follows the output it sums up.
  let flushOut = () => {}
  const note = (text: string) => {
    flushOut()
    if (!common.quiet) proc.stderr.write(text + '\n')
  }
  const warn = (text: string) => proc.stderr.write(`${tool.name}: ${text}\n`)
  const clock = new EventClock()
  const startedAt = Date.now()

  let stopRequested: (err?: Error) => void = () => {}
  const stopped = new Promise<Error | undefined>((resolve) => {
    stopRequested = (err?: Error) => resolve(err)
  })
  const writer = new StdoutWriter(proc.stdout, () => stopRequested())
  flushOut = () => writer.flush()
  const output = tool.createOutput({
    common,
    args,
    backend: backend.name,
    clock,
    out: (t) => writer.write(t),
    note,
  })

  // Filters the backend does not apply in the kernel are applied here.
  const active = report.kinds.filter((k) => k.usable)
  const inUser = new Set<FilterName>()
  for (const k of active) {
    for (const [f, place] of Object.entries(k.filters)) if (place !== 'kernel') inUser.add(f as FilterName)
  }
  const keep = userSpaceFilter(common.filters, inUser)
  // Backends that enforce --rate-limit in the kernel report what they suppressed.
  const limiter = new RateLimiter(output.perEvent && !report.rateLimitInKernel ? common.rateLimit : 0)
  let seen = 0
  let done = false

  const sink = {
    event(e: Event) {
      if (done || !keep(e)) return
      // -n counts what is printed (kernel rate limits drop the rest before it gets here).
      if (output.perEvent && !limiter.admit(output.suppressKey(e))) return
      output.event(e)
      if (tool.maxCounts !== 'events') return
      seen++
      if (common.maxEvents !== null && seen >= common.maxEvents) {
        done = true
        stopRequested()
      }
    },
    batchEnd() {
      writer.flush()
    },
    ready() {
      return writer.backlog < MAX_STDOUT_BACKLOG
    },
  }

  let run: Run | null = null
  const onSignal = () => stopRequested()
  const onExit = () => run?.close()
  for (const s of STOP_SIGNALS) proc.on(s, onSignal)
  proc.on('exit', onExit)
  const timers: NodeJS.Timeout[] = []
  let lostReported = 0
  try {
    await output.start?.()
    try {
      run = await backend.start(req, report, {
        sink,
        notice: (m) => warn(m),
        fail: (err) => stopRequested(err),
      })
    } catch (err) {
      throw new BackendStartError(backend.name, err)
    }
    // After the backend's own deferred start-up work (symbols, reasons), same tick order.
    timers.push(setTimeout(collectStartupGarbage, 0))
    const hooks = active.map((k) => k.hook).join(', ')
    note(tool.banner ? tool.banner(backend.name, active) : `Tracing ${tool.tracing} via ${backend.name} (${hooks}). Ctrl-C to end.`)
    const missing = report.kinds.filter((k) => !k.usable).map((k) => `${k.kind} (${k.reason})`)
    if (missing.length) note(`Not traced: ${missing.join('; ')}`)
    // SPEC §2: the banner names what the chosen hooks cannot see.
    const blind = [...new Set(active.flatMap((k) => k.cannotSee))]
    if (blind.length && !tool.banner) note(`Not seen by ${backend.name}: ${blind.join('; ')}`)
    output.header()
    writer.flush()

    if (common.durationS !== null) timers.push(setTimeout(() => stopRequested(), common.durationS * 1000))
    const currentRun = run
    const interval = tool.intervalSeconds(args)
    let intervals = 0
    if (interval !== null && output.interval) {
      // Each report is due at start + n·interval, not interval after the last
      // one ran: a busy event loop (a storm on trace_pipe) delays reports a
      // little but never makes them drift (600 reports in 600 s, not 590).
      const startedAt = Date.now()
      const slot = timers.length // one timer slot, re-armed after each report
      const report = () => {
        currentRun.sample?.()
        output.interval?.({ lost: currentRun.stats().lost })
        writer.flush()
        intervals++
        if (tool.maxCounts === 'intervals' && common.maxEvents !== null && intervals >= common.maxEvents) {
          done = true
          stopRequested()
          return
        }
        timers[slot] = setTimeout(report, Math.max(0, startedAt + (intervals + 1) * interval * 1000 - Date.now()))
      }
      timers[slot] = setTimeout(report, interval * 1000)
    }
    timers.push(
      setInterval(() => {
        const stats = currentRun.stats()
        lostReported = reportLoss(stats.lost, lostReported, tool.perEventTool && common.json, writer, warn)
        reportSuppressed(limiter, currentRun, stats, common, writer, warn)
        writer.flush()
      }, 1000),
    )

    const failure = await stopped
    for (const t of timers) clearInterval(t)
    done = done || writer.closed
    if (!done) run.sample?.()
    run.close()
    if (failure) throw failure
    const stats = run.stats()
    lostReported = reportLoss(stats.lost, lostReported, tool.perEventTool && common.json, writer, warn)
    reportSuppressed(limiter, run, stats, common, writer, warn)
    output.finish({
      lost: stats.lost,
      suppressed: limiter.total + (stats.suppressed ?? 0),
      unresolved: stats.unresolved,
      hiddenNotSpecified: stats.hiddenNotSpecified ?? 0,
      durationS: Math.round((Date.now() - startedAt) / 100) / 10,
    })
    if (stats.malformed > 0 && common.debug) warn(`${stats.malformed} trace lines could not be parsed`)
    await writer.end()
    return 0
  } finally {
    for (const t of timers) clearInterval(t)
    run?.close()
    output.close?.()
    for (const s of STOP_SIGNALS) proc.off(s, onSignal)
    proc.off('exit', onExit)
  }
}

/** WARNING on stderr while loss grows; `{"type":"lost"}` records only for
 *  per-event tools (dropwatch reports loss in its interval records). */
function reportLoss(total: number, reported: number, jsonRecord: boolean, writer: StdoutWriter, warn: (m: string) => void): number {
  if (total <= reported) return reported
  const count = total - reported
  if (jsonRecord) writer.write(jsonLine({ type: 'lost', count, total }))
  warn(`WARNING: ${count} events lost (${total} in total)`)
  return total
}

function reportSuppressed(
  limiter: RateLimiter,
  run: Run,
  stats: RunStats,
  common: CommonOptions,
  writer: StdoutWriter,
  warn: (m: string) => void,
): void {
  const user = limiter.takeReport()
  const kernel = run.takeSuppressed?.() ?? []
  const byKey = new Map<string, number>()
  for (const k of [...(user?.byKey ?? []), ...kernel]) byKey.set(k.key, (byKey.get(k.key) ?? 0) + k.count)
  const count = [...byKey.values()].reduce((a, b) => a + b, 0)
  if (count === 0) return
  const total = limiter.total + (stats.suppressed ?? 0)
  const by = [...byKey].map(([key, n]) => ({ key, count: n })).sort((a, b) => b.count - a.count)
  if (common.json) writer.write(jsonLine({ type: 'suppressed', count, total, by }))
  warn(`${count} events suppressed by --rate-limit (${by.map((k) => `${k.key}: ${k.count}`).join(', ')})`)
}
