// The one backend interface. A backend is asked, for a set of event kinds,
// what it could do on this kernel (probe) and then to do it (start). Tools and
// formatters never look behind this interface.
import type { EventKind, EventSink } from './events.js'
import type { FilterName, FilterPlace, Filters } from './filters.js'

export type BackendName = 'bpf' | 'ftrace'
export const BACKEND_NAMES: readonly BackendName[] = ['bpf', 'ftrace']

export type HookType = 'tracepoint' | 'kprobe'
export type HookChoice = 'auto' | HookType

/** Event fields that not every hook can fill. */
export type OptionalField = 'seq' | 'err' | 'stack' | 'netns' | 'comm' | 'state' | 'dev'

export interface KindRequest {
  kind: EventKind
  /** A required kind that cannot be served makes the backend ineligible. */
  required: boolean
}

export interface RunRequest {
  tool: string
  kinds: KindRequest[]
  /** Optional fields the user explicitly asked for (e.g. --seq); a hook that
   *  cannot fill one cannot serve the kind. */
  fields: OptionalField[]
  filters: Filters
  hookType: HookChoice
  /** Failed transmit attempts wanted too (tcpretrans --err). */
  includeFailed: boolean
  /** Hide drops with reason NOT_SPECIFIED (counted) — tcpdrop without --all-reasons. */
  hideNotSpecified: boolean
  /** Resolve the owning process of sockets (tcpdrop --owner). */
  owner: boolean
  /** --rate-limit (event lines/s, 0 = none) for backends that enforce it in the kernel. */
  rateLimit: number
  /** --stack-rate (stacks/s, 0 = no limit). */
  stackRate: number
  stackDepth: number
  bufferKb: number
  debug: boolean
}

export interface KindPlan {
  kind: EventKind
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
  /** Drops hidden because their reason is NOT_SPECIFIED. */
  hiddenNotSpecified?: number
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

export interface Backend {
  readonly name: BackendName
  probe(req: RunRequest): Promise<BackendReport>
  start(req: RunRequest, report: BackendReport, ctx: StartContext): Promise<Run>
}
