// What the ftrace backend needs to know about one tracepoint hook: which
// event, what it can fill and filter on this kernel for one kind request
// (learned from its format file), and — for a run — its instance options,
// kernel filter, and how a trace line becomes an Event. What planning learned
// is kept by the plan; what a run counts is kept by the run it opens.
import type { KindPlan, RunRequest } from '../../lib/backend.js'
import type { Event, EventKind, KindRequest } from '../../lib/events.js'
import type { EventFormat } from '../format.js'
import type { HistEntry } from '../hist-trigger.js'

/** A hook's plan without what the backend fills in (kind, hook type, hook name). */
export type HookPlanInfo = Omit<KindPlan, 'kind' | 'hookType' | 'hook'>

/** A trace line's common part and its event text. */
export interface TraceEventLine {
  comm: string
  pid: number
  tsNs: bigint
  body: string
}

export interface TracepointHook<K extends EventKind = EventKind> {
  system: string
  event: string
  plan(format: EventFormat, request: KindRequest<K>, run: RunRequest): TracepointPlan
}

export interface TracepointPlan {
  info: HookPlanInfo
  /** The hook's side of one run (called only when the plan is usable). */
  open(): TracepointRun
}

export interface TracepointRun {
  /** Instance options this hook needs (e.g. `hash-ptr` off for raw pointers); absent options are skipped. */
  instanceOptions?: Record<string, boolean>
  /** The in-kernel filter expression for events/<sys>/<event>/filter ('' for none). */
  kernelFilter: string
  /** Where the kernel has hist triggers: counts per key in the kernel instead
   *  of one trace line per event. */
  counting?: HistCounting
  /** One parsed trace line → Event (stack filled later), or null when it is not for us. */
  decode(line: TraceEventLine): Event | null
  /** Start-up work the hook would otherwise do at its first event (symbol
   *  tables); the backend runs it right after attaching. */
  warm?(): void
  /** Counts the hook keeps for RunStats (sockets it could not resolve, hidden events). */
  stats?(): { unresolved: number; hidden?: number }
}

export interface HistCounting {
  trigger: string
  /** One entry's growth since the last read → Event. */
  decode(entry: HistEntry, count: number): Event | null
}
