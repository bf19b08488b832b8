// What the ftrace backend needs to know about one tracepoint hook: which event,
// what it can fill and filter on this kernel (learned from its format file),
// the kernel filter expression, and how to turn a trace line into an Event.
import type { KindPlan, RunRequest } from '../../lib/backend.js'
import type { Event, EventKind } from '../../lib/events.js'
import type { EventFormat } from '../format.js'
import type { HistEntry } from '../hist-trigger.js'

export interface DecodeContext {
  format: EventFormat
  req: RunRequest
}

export interface TracepointHook {
  kind: EventKind
  system: string
  event: string
  /** Fields, filter places, limits; `usable: false` with a reason when it cannot serve req. */
  plan(format: EventFormat, req: RunRequest): Omit<KindPlan, 'kind' | 'hookType' | 'hook'>
  /** Instance options this hook needs (e.g. `hash-ptr` off for raw pointers); absent options are skipped. */
  instanceOptions?(format: EventFormat, req: RunRequest): Record<string, boolean>
  /** The in-kernel filter expression for events/<sys>/<event>/filter ('' for none). */
  kernelFilter(format: EventFormat, req: RunRequest): string
  /** Start-up work the hook would otherwise do at its first event (symbol
   *  tables); the backend runs it right after attaching. */
  warm?(format: EventFormat, req: RunRequest): void
  /** Counts the hook keeps for RunStats (sockets it could not resolve, hidden reasons). */
  stats?(req: RunRequest): { unresolved: number; hiddenNotSpecified?: number }
  /** Where the kernel has hist triggers: count per key in the kernel instead of
   *  one trace line per event (null when this run cannot). decode() turns one
   *  entry's growth since the last read into an Event. */
  counting?(format: EventFormat, req: RunRequest): HistCounting | null
  /** One parsed trace line → Event (stack filled later), or null when it is not for us. */
  decode(line: { comm: string; pid: number; tsNs: bigint; body: string }, ctx: DecodeContext): Event | null
}

export interface HistCounting {
  trigger: string
  decode(entry: HistEntry, count: number): Event | null
}
