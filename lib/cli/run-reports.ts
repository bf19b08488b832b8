// What a run reports while it goes and at its end (SPEC §3): a WARNING on
// stderr while loss grows (and `{"type":"lost"}` records for per-event tools;
// dropwatch reports loss in its interval records), and once a second what
// --rate-limit suppressed, in user space and in the kernel, by key.
import type { Run, RunStats } from '../backend.js'
import { jsonLine } from '../format/json.js'
import type { RateLimiter } from '../rate-limit.js'
import type { StdoutWriter } from './stdout-writer.js'

export class RunReports {
  readonly #writer: StdoutWriter
  readonly #warn: (m: string) => void
  readonly #limiter: RateLimiter
  readonly #json: boolean
  readonly #lostRecords: boolean
  #lostReported = 0

  constructor(parts: { writer: StdoutWriter; warn: (m: string) => void; limiter: RateLimiter; json: boolean; lostRecords: boolean }) {
    this.#writer = parts.writer
    this.#warn = parts.warn
    this.#limiter = parts.limiter
    this.#json = parts.json
    this.#lostRecords = parts.lostRecords
  }

  /** Both reports for the stats so far. */
  report(run: Run, stats: RunStats = run.stats()): void {
    this.#reportLoss(stats.lost)
    this.#reportSuppressed(run, stats)
  }

  #reportLoss(total: number): void {
    if (total <= this.#lostReported) return
    const count = total - this.#lostReported
    if (this.#lostRecords) this.#writer.write(jsonLine({ type: 'lost', count, total }))
    this.#warn(`WARNING: ${count} events lost (${total} in total)`)
    this.#lostReported = total
  }

  #reportSuppressed(run: Run, stats: RunStats): void {
    const user = this.#limiter.takeReport()
    const kernel = run.takeSuppressed?.() ?? []
    const byKey = new Map<string, number>()
    for (const k of [...(user?.byKey ?? []), ...kernel]) byKey.set(k.key, (byKey.get(k.key) ?? 0) + k.count)
    const count = [...byKey.values()].reduce((a, b) => a + b, 0)
    if (count === 0) return
    const total = this.#limiter.total + (stats.suppressed ?? 0)
    const by = [...byKey].map(([key, n]) => ({ key, count: n })).sort((a, b) => b.count - a.count)
    if (this.#json) this.#writer.write(jsonLine({ type: 'suppressed', count, total, by }))
    this.#warn(`${count} events suppressed by --rate-limit (${by.map((k) => `${k.key}: ${k.count}`).join(', ')})`)
  }
}
