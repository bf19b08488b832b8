// What the ftrace backend needs to know about one kprobe hook: the kernel
// function and its fetch-args, what it can fill and filter, the kernel filter
// expression, and how to turn a trace line into an Event. The probe itself is
// defined by ftrace/kprobe-events.ts under the run's tag.
import type { RunRequest } from '../../lib/backend.js'
import type { Event, EventKind, KindRequest } from '../../lib/events.js'
import type { HookPlanInfo, TraceEventLine } from './hook.js'
import type { SockCommonLayout } from './sock-common-args.js'

export interface KprobePlanContext {
  layout: SockCommonLayout
}

export interface KprobeDecoded {
  event: Event
  /** Addresses could not be resolved (printed as `-`). */
  unresolved: boolean
}

export interface KprobeHook<K extends EventKind = EventKind> {
  /** Kernel function probed at entry. */
  symbol: string
  /** Appended to the run tag to name the event. */
  suffix: string
  /** What the hook can do here (kernel layouts it depends on are checked in it). */
  plan(request: KindRequest<K>, ctx: KprobePlanContext): HookPlanInfo
  args(layout: SockCommonLayout): string[]
  kernelFilter(run: RunRequest, layout: SockCommonLayout): string
  decode(line: TraceEventLine): KprobeDecoded | null
}
