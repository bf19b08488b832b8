// What a tool is: a declarative description — its typed options (declared
// once), the event kinds it asks for with each kind's own options, and its
// output. Tools never know which backend runs; lib/cli/run-tool.ts wires them up.
import type { KindPlan } from '../backend.js'
import type { Event, KindRequest } from '../events.js'
import type { Filters } from '../filters.js'
import type { CommonOptions } from '../cli/common-options.js'
import type { OptionSpecs } from '../cli/option-spec.js'
import type { EventClock } from '../format/clock.js'
import type { KernelCounts } from '../kernel/net-counters.js'

export interface OutputContext<O> {
  common: CommonOptions
  /** The tool's own options, typed (the same values its requests were made from). */
  options: O
  backend: string
  clock: EventClock
  /** Buffered stdout (flushed per poll batch). */
  out(text: string): void
  /** Human notes on stderr (suppressed by -q). */
  note(text: string): void
  /** Kernel counters whose drops the running hooks cannot see (KindPlan.unseenCounters). */
  unseenCounters: ReadonlySet<string>
}

export interface RunTotals {
  lost: number
  suppressed: number
  unresolved: number
  /** Events the tool's options hid (tcpdrop: reason NOT_SPECIFIED). */
  hidden: number
  durationS: number
  /** What the kernel's own counters counted over the run in the traced
   *  namespace (null: unreadable), to show beside what the tool saw. */
  kernel: KernelCounts | null
}

export interface ToolOutput {
  /** Whether each event is printed (rate limit applies) or only aggregated. */
  readonly perEvent: boolean
  /** When it shows the kernel's own counters (RunTotals.kernel, interval's
   *  kernel): at the end, or every interval too; absent, they are not read. */
  readonly kernelCounters?: 'summary' | 'intervals'
  header(): void
  event(e: Event): void
  /** Key under which a rate-limited event is counted (e.g. its TCP state). */
  suppressKey(e: Event): string
  /** Called every --interval seconds when the tool has one, with the run's
   *  loss so far (interval tools report loss in their records, SPEC §3). */
  interval?(stats: { lost: number; kernel: KernelCounts | null }): void
  finish(totals: RunTotals): void
  /** Async setup before tracing starts (e.g. binding a metrics port); a
   *  rejection ends the run with that error. */
  start?(): Promise<void>
  /** Releases what start() acquired; called on every exit path, idempotent. */
  close?(): void
}

export interface ToolDefinition<O> {
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
  /** The tool's own options, in --help order. */
  options: OptionSpecs<O>
  /** Per-event tools have --rate-limit. */
  perEventTool: boolean
  /** What -n counts: events (tcpdrop, tcpretrans) or printed intervals (dropwatch). */
  maxCounts: 'events' | 'intervals'
  /** Checks combinations of options; throws UsageError. */
  check?(o: O): void
  /** Filters the tool's own options add to the common ones (--reason). */
  filters?(o: O): Partial<Filters>
  /** Whether this run prints a line per event (then --rate-limit applies). */
  printsEachEvent(o: O): boolean
  /** The kinds this run needs, each with its options; with `all`, every kind
   *  the tool can use (for --list-backends; the optional ones not required). */
  requests(o: O, all: boolean): KindRequest[]
  intervalSeconds(o: O): number | null
  createOutput(ctx: OutputContext<O>): ToolOutput
}
