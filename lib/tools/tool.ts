// What a tool is: a declarative description (options, event kinds, output).
// Tools never know which backend runs; lib/cli/run-tool.ts wires them up.
import type { Options } from 'yargs'
import type { KindPlan, KindRequest, OptionalField } from '../backend.js'
import type { Event } from '../events.js'
import type { CommonOptions } from '../cli/common-options.js'
import type { EventClock } from '../format/clock.js'

export type ToolArgs = Record<string, unknown>

export interface OutputContext {
  common: CommonOptions
  args: ToolArgs
  backend: string
  clock: EventClock
  /** Buffered stdout (flushed per poll batch). */
  out(text: string): void
  /** Human notes on stderr (suppressed by -q). */
  note(text: string): void
}

export interface RunTotals {
  lost: number
  suppressed: number
  unresolved: number
  /** Drops hidden because their reason is NOT_SPECIFIED (tcpdrop). */
  hiddenNotSpecified: number
  durationS: number
}

export interface ToolOutput {
  /** Whether each event is printed (rate limit applies) or only aggregated. */
  readonly perEvent: boolean
  header(): void
  event(e: Event): void
  /** Key under which a rate-limited event is counted (e.g. its TCP state). */
  suppressKey(e: Event): string
  /** Called every --interval seconds when the tool has one, with the run's
   *  loss so far (interval tools report loss in their records, SPEC §3). */
  interval?(stats: { lost: number }): void
  finish(totals: RunTotals): void
  /** Async setup before tracing starts (e.g. binding a metrics port); a
   *  rejection ends the run with that error. */
  start?(): Promise<void>
  /** Releases what start() acquired; called on every exit path, idempotent. */
  close?(): void
}

export interface ToolDefinition {
  name: 'tcpdrop' | 'tcpretrans' | 'dropwatch'
  /** One line for --help and the banner. */
  summary: string
  /** What the banner says is being traced, e.g. `TCP retransmits`. */
  tracing: string
  /** A tool's own banner line (dropwatch's `Monitoring for dropped packets (…)`);
   *  default: `Tracing <tracing> via <backend> (<hooks>). Ctrl-C to end.` */
  banner?(backend: string, plans: readonly KindPlan[]): string
  examples: Array<[string, string]>
  /** Extra notes printed at the end of --help. */
  helpNotes?: string
  options: Record<string, Options>
  /** Per-event tools have --rate-limit. */
  perEventTool: boolean
  /** Whether this run prints a line per event (then --rate-limit applies). */
  printsEachEvent(args: ToolArgs): boolean
  /** What -n counts: events (tcpdrop, tcpretrans) or printed intervals (dropwatch). */
  maxCounts: 'events' | 'intervals'
  /** Checks option combinations; throws UsageError. */
  validate(args: ToolArgs, common: CommonOptions): void
  kinds(args: ToolArgs): KindRequest[]
  /** Every kind the tool can use, for --list-backends (optional ones not required). */
  allKinds(args: ToolArgs): KindRequest[]
  fields(args: ToolArgs): OptionalField[]
  includeFailed(args: ToolArgs): boolean
  /** Drops with reason NOT_SPECIFIED are hidden (and counted) — tcpdrop's default. */
  hidesNotSpecified?(args: ToolArgs): boolean
  intervalSeconds(args: ToolArgs): number | null
  createOutput(ctx: OutputContext): ToolOutput
}
