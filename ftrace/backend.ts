// The ftrace backend: tracepoints and run-tagged kprobe events enabled in a
// private tracefs instance, read from its trace_pipe. Per kind: the tracepoint
// where it exists, the kprobe when --hook-type kprobe forces it, when the
// tracepoint is missing (or cannot serve the request), or when only a kprobe
// can see the kind (loss probes).
import { existsSync, readFileSync } from 'node:fs'
import type { Backend, BackendReport, HookTypeStatus, KindPlan, Run, RunRequest, StartContext } from '../lib/backend.js'
import type { Event, EventKind } from '../lib/events.js'
import { ToolError } from '../lib/errors.js'
import { CAP, hasCapability } from '../lib/kernel/capabilities.js'
import { userFacingStack } from '../lib/kernel/stack-frames.js'
import { tgidOfTid } from '../lib/kernel/comm.js'
import { RateLimiter } from '../lib/rate-limit.js'
import { runTag } from '../lib/run-tag.js'
import { parseFormat, type EventFormat } from './format.js'
import { HistDeltas, parseHist } from './hist-trigger.js'
import type { HistCounting, TracepointHook } from './hooks/hook.js'
import { skbDropCount } from './hooks/skb-drop-count.js'
import { tcpDrop } from './hooks/tcp-drop.js'
import { tcpRetransmitSkb, tcpRetransmitSynack } from './hooks/tcp-retransmit.js'
import { removeStaleInstances, TraceInstance } from './instance.js'
import { removeStaleKprobes } from './kprobe-events.js'
import { kprobeHookFor, kprobeHookStatus, planKprobe } from './kprobe-plan.js'
import { KprobeRun } from './kprobe-run.js'
import { TracePipeReader } from './pipe-reader.js'
import { StackJoiner } from './stack-joiner.js'
import { parseTraceLine } from './trace-line.js'
import { ensureTracefs } from './tracefs.js'

const TRACEPOINT_HOOKS: readonly TracepointHook[] = [tcpRetransmitSkb, tcpRetransmitSynack, skbDropCount, tcpDrop]

/** Kinds only a kprobe can see. */
const KPROBE_NEEDED: Partial<Record<EventKind, string>> = {
  'tcp-loss-probe': 'a kprobe on tcp_send_loss_probe',
}

interface Probed {
  tracefs: string
  formats: Map<string, EventFormat>
}

export class FtraceBackend implements Backend {
  readonly name = 'ftrace' as const
  #probed: Probed | null = null

  async probe(req: RunRequest): Promise<BackendReport> {
    const report: BackendReport = {
      backend: 'ftrace',
      usable: false,
      reason: null,
      permissionDenied: false,
      hookTypes: {
        tracepoint: { usable: false, reason: null },
        kprobe: { usable: false, reason: null },
      },
      kinds: [],
    }
    const unusable = (reason: string, permissionDenied: boolean): BackendReport => {
      report.reason = reason
      report.permissionDenied = permissionDenied
      report.hookTypes.tracepoint = { usable: false, reason }
      report.hookTypes.kprobe = { usable: false, reason }
      report.kinds = req.kinds.map((k) => emptyPlan(k.kind, reason))
      return report
    }
    if (!hasCapability(CAP.SYS_ADMIN)) {
      return unusable('needs CAP_SYS_ADMIN (run as root) to use tracefs', true)
    }
    let tracefs: string
    try {
      tracefs = ensureTracefs()
    } catch (err) {
      if (err instanceof ToolError) return unusable(err.message, err.exitCode === 3)
      throw err
    }
    const tracepoints: HookTypeStatus = existsSync(`${tracefs}/instances`)
      ? { usable: true, reason: null }
      : { usable: false, reason: `${tracefs}/instances missing (kernel too old for private instances)` }
    const kprobes = kprobeHookStatus(tracefs)
    report.hookTypes = { tracepoint: tracepoints, kprobe: kprobes }

    const formats = new Map<string, EventFormat>()
    for (const { kind } of req.kinds) {
      report.kinds.push(this.#planKind(kind, req, tracefs, tracepoints, kprobes, formats))
    }
    this.#probed = { tracefs, formats }
    const required = req.kinds.filter((k) => k.required).map((k) => k.kind)
    const missing = report.kinds.filter((p) => required.includes(p.kind) && !p.usable)
    report.usable = tracepoints.usable && missing.length === 0
    if (!report.usable) report.reason = missing.map((p) => `${p.kind}: ${p.reason}`).join('; ') || tracepoints.reason
    return report
  }

  #planKind(
    kind: EventKind,
    req: RunRequest,
    tracefs: string,
    tracepoints: HookTypeStatus,
    kprobes: HookTypeStatus,
    formats: Map<string, EventFormat>,
  ): KindPlan {
    const hook = TRACEPOINT_HOOKS.find((h) => h.kind === kind)
    const kprobeHook = kprobeHookFor(kind)
    const kprobeNeed = KPROBE_NEEDED[kind]
    if (kprobeNeed) {
      if (req.hookType === 'tracepoint') return emptyPlan(kind, `needs ${kprobeNeed}; --hook-type tracepoint excludes it`)
      if (!kprobes.usable || !kprobeHook) return emptyPlan(kind, `needs ${kprobeNeed}: ${kprobes.reason ?? 'no kprobe hook'}`)
      return planKprobe(kprobeHook, req, tracefs)
    }
    if (req.hookType === 'kprobe') {
      if (!kprobes.usable || !kprobeHook) return emptyPlan(kind, `--hook-type kprobe: ${kprobes.reason ?? 'no kprobe hook for this event kind'}`)
      return planKprobe(kprobeHook, req, tracefs)
    }
    if (!hook) return emptyPlan(kind, 'not implemented in the ftrace backend yet')
    const tracepointPlan = this.#planTracepoint(kind, hook, req, tracefs, tracepoints, formats)
    if (tracepointPlan.usable || req.hookType === 'tracepoint' || !kprobes.usable || !kprobeHook) return tracepointPlan
    // The tracepoint is missing or cannot serve this request: the kprobe may.
    const kprobePlan = planKprobe(kprobeHook, req, tracefs)
    if (kprobePlan.usable) return kprobePlan
    return { ...tracepointPlan, reason: `${tracepointPlan.reason ?? 'tracepoint unusable'}; ${kprobePlan.reason ?? 'kprobe unusable'}` }
  }

  #planTracepoint(
    kind: EventKind,
    hook: TracepointHook,
    req: RunRequest,
    tracefs: string,
    tracepoints: HookTypeStatus,
    formats: Map<string, EventFormat>,
  ): KindPlan {
    if (!tracepoints.usable) return emptyPlan(kind, tracepoints.reason ?? 'tracepoints unusable')
    const formatPath = `${tracefs}/events/${hook.system}/${hook.event}/format`
    let format: EventFormat
    try {
      format = parseFormat(readFileSync(formatPath, 'utf8'), formatPath)
    } catch (err) {
      const why = existsSync(formatPath) ? (err as Error).message : `tracepoint ${hook.system}:${hook.event} not in this kernel`
      return emptyPlan(kind, why)
    }
    formats.set(`${hook.system}:${hook.event}`, format)
    const plan = hook.plan(format, req)
    return { kind, hookType: 'tracepoint', hook: `tracepoint ${hook.system}:${hook.event}`, ...plan }
  }

  async start(req: RunRequest, report: BackendReport, ctx: StartContext): Promise<Run> {
    const probed = this.#probed
    if (!probed) throw new Error('ftrace backend started before probe')
    const active = report.kinds.filter((k) => k.usable)
    const hooks = TRACEPOINT_HOOKS.filter((h) => active.some((k) => k.kind === h.kind && k.hookType === 'tracepoint'))
    const kprobeHooks = active.filter((k) => k.hookType === 'kprobe').flatMap((k) => kprobeHookFor(k.kind) ?? [])

    for (const name of removeStaleInstances(probed.tracefs)) {
      ctx.notice(`removed tracefs instance ${name} of a run that no longer exists`)
    }
    // Their instances are gone now, so the probes are no longer enabled anywhere.
    for (const name of removeStaleKprobes(probed.tracefs)) {
      ctx.notice(`removed kprobe event ${name} of a run that no longer exists`)
    }
    const tag = runTag(req.tool)
    const instance = new TraceInstance(probed.tracefs, tag.name)
    const kprobes = kprobeHooks.length > 0 ? new KprobeRun(probed.tracefs, tag, kprobeHooks, req) : null
    if (kprobes?.joinProblem) ctx.notice(`addresses of IPv6 sockets print as "-": ${kprobes.joinProblem} (never changed by this tool)`)
    const wantStack = req.fields.includes('stack')
    let malformed = 0
    let finalLost: number | null = null
    let reader: TracePipeReader | null = null
    let closed = false

    // --stack-rate applied here (ftrace records every stack; 0 = no limit).
    const stackLimit = new RateLimiter(req.stackRate)
    const emit = (e: Event, frames: string[] | null) => {
      if (e.kind !== 'skb-drop-count') {
        // Trace lines carry thread ids; PID columns show the process, as on bpf.
        e.pid = tgidOfTid(e.pid)
        if (frames) {
          if (e.kind === 'tcp-drop' && !stackLimit.admit('stack')) e.stack = 'not-sampled'
          else e.stack = userFacingStack(frames, req.stackDepth)
        }
      }
      ctx.sink.event(e)
    }
    const joiner = new StackJoiner<Event>(emit)
    const byEvent = new Map(hooks.map((h) => [h.event, h]))
    // Hooks counted by a hist trigger instead of trace lines, read per interval.
    const counted: Array<{ dir: string; counting: HistCounting; deltas: HistDeltas; dropped: number }> = []
    const sampleCounted = () => {
      for (const c of counted) {
        const table = parseHist(instance.read(`${c.dir}/hist`))
        c.dropped = table.dropped
        for (const { entry, delta } of c.deltas.next(table)) {
          const e = c.counting.decode(entry, delta)
          if (e) ctx.sink.event(e)
        }
      }
      ctx.sink.batchEnd()
    }
    const histDropped = () => counted.reduce((n, c) => n + c.dropped, 0)

    const run: Run = {
      sample: () => {
        if (counted.length > 0 && !closed) sampleCounted()
      },
      stats: () => {
        const hookStats = hooks.map((h) => h.stats?.(req) ?? { unresolved: 0 })
        return {
          lost: finalLost ?? instance.lostEvents() + histDropped(),
          unresolved: (kprobes?.unresolved ?? 0) + hookStats.reduce((n, s) => n + s.unresolved, 0),
          hiddenNotSpecified: hookStats.reduce((n, s) => n + (s.hiddenNotSpecified ?? 0), 0),
          malformed,
        }
      },
      close: () => {
        if (closed) return
        closed = true
        try {
          instance.write('tracing_on', '0') // nothing new while the rest is read
          reader?.drainNow()
          joiner.flushAll()
          ctx.sink.batchEnd()
          // Whatever could not be read before closing is lost too, and said so.
          finalLost = instance.lostEvents() + instance.unreadEntries() + histDropped()
        } catch {
          // closing must release the kernel objects whatever happened before
        }
        reader?.stop()
        for (const c of counted) {
          try {
            instance.write(`${c.dir}/trigger`, `!${c.counting.trigger}`)
          } catch {
            // removing the instance removes its triggers too
          }
        }
        // The probes are enabled in the instance: removing them first would fail with EBUSY.
        instance.remove()
        kprobes?.remove()
      },
    }
    try {
      instance.create()
      instance.write('trace_clock', 'mono')
      instance.write('buffer_size_kb', String(req.bufferKb))
      instance.setOption('irq-info', true)
      instance.setOption('record-tgid', false)
      instance.setOption('sym-offset', true)
      instance.setOption('stacktrace', wantStack)
      for (const hook of hooks) {
        const format = probed.formats.get(`${hook.system}:${hook.event}`)
        if (!format) throw new Error(`no format for ${hook.event}`)
        for (const [option, on] of Object.entries(hook.instanceOptions?.(format, req) ?? {})) instance.setOption(option, on)
        const counting = hook.counting?.(format, req) ?? null
        if (counting) {
          // The trigger soft-enables the event: counted, never written to the buffer.
          const dir = `events/${hook.system}/${hook.event}`
          instance.write(`${dir}/trigger`, counting.trigger)
          counted.push({ dir, counting, deltas: new HistDeltas(), dropped: 0 })
        } else {
          instance.enableEvent(hook.system, hook.event, hook.kernelFilter(format, req))
        }
      }
      kprobes?.attach(instance)
      instance.write('tracing_on', '1')
      reader = new TracePipeReader(instance.path('trace_pipe'), {
        lines: (lines) => {
          for (const text of lines) {
            const line = parseTraceLine(text)
            if (line === null) {
              if (text.trim() !== '') malformed++
              continue
            }
            if (line.type === 'frame') {
              if (wantStack) joiner.frame(line.frame)
              continue
            }
            if (line.type === 'stack-start') {
              if (wantStack) joiner.stackStart(line.cpu)
              continue
            }
            if (wantStack) joiner.otherLine()
            if (line.type === 'lost') continue // counted from per_cpu stats
            if (kprobes?.handles(line.event)) {
              const event = kprobes.decode(line)
              if (event === null) malformed++
              else if (wantStack) joiner.event(line.cpu, event)
              else emit(event, null)
              continue
            }
            const hook = byEvent.get(line.event)
            const format = hook && probed.formats.get(`${hook.system}:${hook.event}`)
            if (!hook || !format) {
              malformed++
              continue
            }
            const event = hook.decode(line, { format, req })
            if (event === null) continue
            if (wantStack) joiner.event(line.cpu, event)
            else emit(event, null)
          }
        },
        drained: () => {
          kprobes?.tick()
          if (wantStack) joiner.drained()
          ctx.sink.batchEnd()
        },
        ready: () => ctx.sink.ready(),
        error: (err) => ctx.fail(err),
      })
      reader.start()
      setTimeout(() => {
        for (const hook of hooks) {
          const format = probed.formats.get(`${hook.system}:${hook.event}`)
          if (format && !closed) hook.warm?.(format, req)
        }
      }, 0)
    } catch (err) {
      run.close()
      throw err
    }
    return run
  }
}

function emptyPlan(kind: EventKind, reason: string): KindPlan {
  return { kind, usable: false, reason, hookType: null, hook: null, fields: [], filters: {}, cannotSee: [] }
}
