// The ftrace backend: tracepoints and run-tagged kprobe events enabled in a
// private tracefs instance, read from its trace_pipe. Per kind (ftrace/hooks/
// registry.ts): the tracepoint where it exists, the kprobe when --hook-type
// kprobe forces it, when the tracepoint is missing or cannot serve the
// request, or when only a kprobe can see the kind (loss probes).
import { existsSync, readFileSync } from 'node:fs'
import type { Backend, BackendReport, HookTypeStatus, KindPlan, Probe, RunRequest } from '../lib/backend.js'
import { settleUsable, unusablePlan, unusableProbe, unusableReport } from '../lib/backend.js'
import type { KindRequest } from '../lib/events.js'
import { ToolError } from '../lib/errors.js'
import { CAP, hasCapability } from '../lib/kernel/capabilities.js'
import { ruleProblem } from '../lib/plan-rules.js'
import { parseFormat, type EventFormat } from './format.js'
import { FtraceRun, type ChosenHook } from './ftrace-run.js'
import type { TracepointHook } from './hooks/hook.js'
import type { KprobeHook } from './hooks/kprobe-hook.js'
import { FTRACE_HOOKS } from './hooks/registry.js'
import { kprobeHookStatus, planKprobe } from './kprobe-plan.js'
import { ensureTracefs } from './tracefs.js'

/** What probing found on this kernel, shared by every kind's planning. */
interface Kernel {
  tracefs: string
  run: RunRequest
  tracepoints: HookTypeStatus
  kprobes: HookTypeStatus
}

/** A kind's plan and, when usable, the hook that serves it. */
type Planned = { plan: KindPlan; chosen: ChosenHook | null }

export class FtraceBackend implements Backend {
  readonly name = 'ftrace' as const

  async probe(run: RunRequest, kinds: readonly KindRequest[]): Promise<Probe> {
    if (!hasCapability(CAP.SYS_ADMIN)) return unusableProbe(unusableReport('ftrace', kinds, 'needs CAP_SYS_ADMIN (run as root) to use tracefs', true))
    let tracefs: string
    try {
      tracefs = ensureTracefs()
    } catch (err) {
      if (err instanceof ToolError) return unusableProbe(unusableReport('ftrace', kinds, err.message, err.exitCode === 3))
      throw err
    }
    const tracepoints: HookTypeStatus = existsSync(`${tracefs}/instances`)
      ? { usable: true, reason: null }
      : { usable: false, reason: `${tracefs}/instances missing (kernel too old for private instances)` }
    const kernel: Kernel = { tracefs, run, tracepoints, kprobes: kprobeHookStatus(tracefs) }
    const report: BackendReport = {
      backend: 'ftrace',
      usable: false,
      reason: null,
      permissionDenied: false,
      hookTypes: { tracepoint: tracepoints, kprobe: kernel.kprobes },
      kinds: [],
    }
    const planned = kinds.map((request) => planKind(request, kernel))
    report.kinds = planned.map((p) => p.plan)
    settleUsable(report, kinds, tracepoints.usable, tracepoints.reason)
    // The generic rules may strike plans after probing: only those still usable start.
    const start = () => planned.filter((p) => p.plan.usable && p.chosen).map((p) => p.chosen as ChosenHook)
    return { report, start: async (ctx) => FtraceRun.start(run, tracefs, start(), ctx) }
  }
}

function planKind(request: KindRequest, k: Kernel): Planned {
  const hooks = FTRACE_HOOKS[request.kind] as { tracepoint?: TracepointHook; kprobe?: KprobeHook } | undefined
  const none = (reason: string): Planned => ({ plan: unusablePlan(request.kind, reason), chosen: null })
  if (!hooks) return none('not implemented in the ftrace backend yet')
  const kprobe = hooks.kprobe
  if (!hooks.tracepoint) {
    const need = `a kprobe on ${kprobe?.symbol ?? '?'}`
    if (k.run.hookType === 'tracepoint') return none(`needs ${need}; --hook-type tracepoint excludes it`)
    if (!k.kprobes.usable || !kprobe) return none(`needs ${need}: ${k.kprobes.reason ?? 'no kprobe hook'}`)
    return planKprobeHook(kprobe, request, k)
  }
  if (k.run.hookType === 'kprobe') {
    if (!k.kprobes.usable || !kprobe) return none(`--hook-type kprobe: ${k.kprobes.reason ?? 'no kprobe hook for this event kind'}`)
    return planKprobeHook(kprobe, request, k)
  }
  const tracepoint = planTracepoint(hooks.tracepoint, request, k)
  if (tracepoint.plan.usable || k.run.hookType === 'tracepoint' || !k.kprobes.usable || !kprobe) return tracepoint
  // The tracepoint is missing or cannot serve this request: the kprobe may.
  const fallback = planKprobeHook(kprobe, request, k)
  if (fallback.plan.usable) return fallback
  return { plan: { ...tracepoint.plan, reason: `${tracepoint.plan.reason ?? 'tracepoint unusable'}; ${fallback.plan.reason ?? 'kprobe unusable'}` }, chosen: null }
}

/** A hook's plan with the generic rules applied, so a kind can fall back to another hook. */
function checked(planned: Planned, request: KindRequest, k: Kernel): Planned {
  const problem = planned.plan.usable ? ruleProblem(planned.plan, request, k.run, 'ftrace') : null
  return problem === null ? planned : { plan: { ...planned.plan, usable: false, reason: problem }, chosen: null }
}

function planKprobeHook(hook: KprobeHook, request: KindRequest, k: Kernel): Planned {
  return checked({ plan: planKprobe(hook, request, k.tracefs), chosen: { type: 'kprobe', request, hook } }, request, k)
}

function planTracepoint(hook: TracepointHook, request: KindRequest, k: Kernel): Planned {
  if (!k.tracepoints.usable) return { plan: unusablePlan(request.kind, k.tracepoints.reason ?? 'tracepoints unusable'), chosen: null }
  const formatPath = `${k.tracefs}/events/${hook.system}/${hook.event}/format`
  let format: EventFormat
  try {
    format = parseFormat(readFileSync(formatPath, 'utf8'), formatPath)
  } catch (err) {
    const why = existsSync(formatPath) ? (err as Error).message : `tracepoint ${hook.system}:${hook.event} not in this kernel`
    return { plan: unusablePlan(request.kind, why), chosen: null }
  }
  const plan = hook.plan(format, request, k.run)
  const kindPlan: KindPlan = { kind: request.kind, hookType: 'tracepoint', hook: `tracepoint ${hook.system}:${hook.event}`, ...plan.info }
  return checked({ plan: kindPlan, chosen: { type: 'tracepoint', request, hook, plan } }, request, k)
}
