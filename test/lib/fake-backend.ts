// A Backend for tests of the generic layers (selection, the runner): its probe
// records what it was asked and answers with a report the test configures;
// its start gives a FakeRun the test drives (push events, set loss, see
// sample() and close() calls). No kernel is touched.
import type { Backend, BackendName, BackendReport, KindPlan, Probe, Run, RunRequest, RunStats, StartContext } from '../../lib/backend.js'
import type { Event, KindRequest } from '../../lib/events.js'

/** A usable plan for a kind: every filter in the kernel unless `over` says otherwise. */
export function usablePlan(kind: KindPlan['kind'], over: Partial<KindPlan> = {}): KindPlan {
  return {
    kind,
    usable: true,
    reason: null,
    hookType: 'tracepoint',
    hook: `tracepoint fake:${kind}`,
    fields: ['seq', 'err', 'stack', 'netns', 'comm', 'state', 'dev'],
    filters: { family: 'kernel', port: 'kernel', addr: 'kernel', netns: 'kernel', reason: 'kernel' },
    cannotSee: [],
    ...over,
  }
}

/** A report for these kinds: each one usable unless `plans` says otherwise,
 *  usable overall unless `over` says otherwise. */
export function fakeReport(
  backend: BackendName,
  kinds: readonly KindRequest[],
  plans: Partial<Record<KindPlan['kind'], Partial<KindPlan>>> = {},
  over: Partial<BackendReport> = {},
): BackendReport {
  return {
    backend,
    usable: true,
    reason: null,
    permissionDenied: false,
    hookTypes: { tracepoint: { usable: true, reason: null }, kprobe: { usable: true, reason: null } },
    kinds: kinds.map((k) => usablePlan(k.kind, plans[k.kind])),
    ...over,
  }
}

export class FakeRun implements Run {
  readonly ctx: StartContext
  closeCalls = 0
  sampleCalls = 0
  lost = 0
  /** More of stats() (hidden, suppressed, unresolved). */
  extraStats: Partial<RunStats> = {}
  /** Called by sample() (the kernel-aggregating backends push counts then). */
  onSample: ((run: FakeRun) => void) | null = null

  constructor(ctx: StartContext) {
    this.ctx = ctx
  }

  /** Events as one poll batch. */
  push(...events: Event[]): void {
    for (const e of events) this.ctx.sink.event(e)
    this.ctx.sink.batchEnd()
  }

  stats(): RunStats {
    return { lost: this.lost, unresolved: 0, malformed: 0, ...this.extraStats }
  }

  sample(): void {
    this.sampleCalls++
    this.onSample?.(this)
  }

  close(): void {
    this.closeCalls++
  }
}

export interface FakeBackendOptions {
  /** The report for a probe (default: every kind usable). */
  report?: (run: RunRequest, kinds: readonly KindRequest[]) => BackendReport
  /** start() rejects with this. */
  startError?: Error
  /** Runs once the run has started and the runner is waiting (next macrotask). */
  script?: (run: FakeRun) => void
}

export class FakeBackend implements Backend {
  readonly name: BackendName
  readonly #opts: FakeBackendOptions
  /** What each probe was asked. */
  readonly probes: Array<{ run: RunRequest; kinds: KindRequest[] }> = []
  /** The reports this backend returned (as the generic rules left them). */
  readonly reports: BackendReport[] = []
  readonly runs: FakeRun[] = []
  startCalls = 0

  constructor(name: BackendName, opts: FakeBackendOptions = {}) {
    this.name = name
    this.#opts = opts
  }

  async probe(run: RunRequest, kinds: readonly KindRequest[]): Promise<Probe> {
    this.probes.push({ run: structuredClone(run), kinds: structuredClone([...kinds]) })
    const report = this.#opts.report ? this.#opts.report(run, kinds) : fakeReport(this.name, kinds)
    this.reports.push(report)
    return {
      report,
      start: async (ctx) => {
        this.startCalls++
        if (this.#opts.startError) throw this.#opts.startError
        const run = new FakeRun(ctx)
        this.runs.push(run)
        const script = this.#opts.script
        if (script) setImmediate(() => script(run))
        return run
      },
    }
  }
}
