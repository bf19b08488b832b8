// The one backend interface. A backend is asked, for a set of event kinds,
// what it could do on this kernel (probe) and then to do exactly that (start).
// Tools and formatters never look behind this interface, and nothing here
// knows a kind or a tool option: those travel inside each KindRequest.
import type { EventSink, KindRequest, OptionalField } from './events.js'
import type { FilterName, FilterPlace, Filters } from './filters.js'

export type BackendName = 'bpf' | 'ftrace'

export type HookType = 'tracepoint' | 'kprobe'
export type HookChoice = 'auto' | HookType

/** What every run has, whatever the tool: the kind requests carry the rest. */
export interface RunRequest {
  /** Names the run's kernel objects (run tag). */
  tool: string
  filters: Filters
  hookType: HookChoice
  /** --rate-limit (event lines/s, 0 = none) for backends that enforce it in the kernel. */
  rateLimit: number
  bufferKb: number
  debug: boolean
}

/** The drop-reason names a hook knows on this kernel (for --reason). */
export interface ReasonTable {
  code(name: string): number | null
  names(): string[]
  /** Where the names come from (`btf`, `format`). */
  source: string
}

export interface KindPlan {
  kind: KindRequest['kind']
  usable: boolean
  /** Why it is not usable (or null). */
  reason: string | null
  hookType: HookType | null
  /** Human name of the hook, e.g. `tracepoint tcp:tcp_retransmit_skb`. */
  hook: string | null
  fields: string[]
  filters: Partial<Record<FilterName, FilterPlace>>
  /** What this hook cannot see on this kernel. */
  cannotSee: string[]
  /** What it cannot see of an optional field (e.g. seq: `sequence numbers of SYN-ACKs`):
   *  the banner says it only when the run asks for that field, --list-backends always. */
  cannotSeeOf?: Partial<Record<OptionalField, string>>
  /** Kernel counters (nstat names) that count drops this hook cannot see on
   *  this kernel, so a summary can say why the records are short of them. */
  unseenCounters?: readonly string[]
  /** A few words on why an optional field is missing (e.g. `(added in 6.17)`). */
  fieldNotes?: Partial<Record<OptionalField, string>>
  /** The reasons this hook reports, when it applies --reason itself. */
  reasons?: () => ReasonTable
}

export interface HookTypeStatus {
  usable: boolean
  reason: string | null
}

export interface BackendReport {
  backend: BackendName
  usable: boolean
  reason: string | null
  /** The backend is unusable for lack of privilege (→ exit 3 when nothing else works). */
  permissionDenied: boolean
  /** --rate-limit is enforced in the kernel (suppressed counts come from stats()). */
  rateLimitInKernel?: boolean
  hookTypes: Record<HookType, HookTypeStatus>
  kinds: KindPlan[]
}

export interface RunStats {
  /** Events the kernel or the buffers dropped. */
  lost: number
  /** Events whose socket could not be resolved (printed with `-`). */
  unresolved: number
  /** Trace lines that could not be parsed (skipped). */
  malformed: number
  /** Events suppressed by a rate limit enforced in the kernel. */
  suppressed?: number
  /** Events a kind's options hide (counted, never shown; tcpdrop: NOT_SPECIFIED). */
  hidden?: number
}

export interface Run {
  stats(): RunStats
  /** Backends that aggregate in the kernel push the counts gathered since the
   *  last call into the sink now (called before each interval is printed). */
  sample?(): void
  /** Kernel-suppressed events by label (e.g. TCP state) since the last call. */
  takeSuppressed?(): Array<{ key: string; count: number }>
  /** Releases every kernel object of the run. Synchronous, idempotent and
   *  safe to call from a process 'exit' handler. */
  close(): void
}

export interface StartContext {
  sink: EventSink
  /** One-line notices for stderr (e.g. stale objects removed). */
  notice(message: string): void
  /** A fatal error while running (the runner ends the run with it). */
  fail(err: Error): void
}

/** A backend's answer for one request: its report, and how to start exactly
 *  the kinds the report still calls usable once the generic rules are applied. */
export interface Probe {
  report: BackendReport
  start(ctx: StartContext): Promise<Run>
}

export interface Backend {
  readonly name: BackendName
  probe(run: RunRequest, kinds: readonly KindRequest[]): Promise<Probe>
}

/** A report in which nothing is usable, for the same reason throughout. */
export function unusableReport(backend: BackendName, kinds: readonly KindRequest[], reason: string, permissionDenied = false): BackendReport {
  return {
    backend,
    usable: false,
    reason,
    permissionDenied,
    hookTypes: { tracepoint: { usable: false, reason }, kprobe: { usable: false, reason } },
    kinds: kinds.map((k) => unusablePlan(k.kind, reason)),
  }
}

export function unusablePlan(kind: KindPlan['kind'], reason: string, hookType: HookType | null = null, hook: string | null = null): KindPlan {
  return { kind, usable: false, reason, hookType, hook, fields: [], filters: {}, cannotSee: [] }
}

/** Marks the report unusable when a required kind is (the reason names each). */
export function settleUsable(report: BackendReport, kinds: readonly KindRequest[], extraOk = true, fallbackReason: string | null = null): BackendReport {
  const missing = report.kinds.filter((p) => !p.usable && kinds.some((k) => k.required && k.kind === p.kind))
  report.usable = extraOk && missing.length === 0
  report.reason = report.usable ? null : missing.map((p) => `${p.kind}: ${p.reason}`).join('; ') || fallbackReason
  return report
}

/** A Probe that cannot start (nothing usable). */
export function unusableProbe(report: BackendReport): Probe {
  return {
    report,
    start: async () => {
      throw new Error(`${report.backend} backend is not usable: ${report.reason ?? 'unknown'}`)
    },
  }
}
