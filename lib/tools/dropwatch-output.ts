// dropwatch output (SPEC §6): every interval `HH:MM:SS  N drops` and the
// sorted `COUNT packets dropped at LOCATION (REASON)` lines, or one JSON
// `interval` record; at the end one whole-run `summary` (never a second
// `interval`, so summing intervals stays exact). Counts arrive as
// SkbDropCountEvents: count 1 per drop (ftrace) or kernel-aggregated (bpf).
import type { KindPlan } from '../backend.js'
import type { Event, SkbDropCountEvent } from '../events.js'
import type { KernelCounts } from '../kernel/net-counters.js'
import { localHms } from '../format/clock.js'
import { defineTable, fitWidths, renderRow } from '../format/columns.js'
import { jsonLine } from '../format/json.js'
import { safeText } from '../format/text.js'
import { dropFamilies, MetricsServer } from '../prometheus.js'
import { coreBlock, coreFamilies, coreJson, CoreTotals, isEmpty, type CoreCounts } from './core-counters.js'
import type { DropwatchOptions } from './dropwatch.js'
import type { OutputContext, RunTotals, ToolOutput } from './tool.js'

export type GroupBy = 'location' | 'reason' | 'both' | 'dev'

export interface DropRow {
  location: string | null
  address: string | null
  reason: string | null
  dev: string | null
  count: number
}

/** Aggregates counts under the --by key. */
export class DropTable {
  readonly #by: GroupBy
  #rows = new Map<string, DropRow>()
  #total = 0

  constructor(by: GroupBy) {
    this.#by = by
  }

  get total(): number {
    return this.#total
  }

  add(e: SkbDropCountEvent): void {
    const by = this.#by
    const location = by === 'location' || by === 'both' ? e.location : null
    const reason = by === 'reason' || by === 'both' ? e.reason : null
    const dev = by === 'dev' ? (e.dev ?? (e.ifindex !== null ? `if${e.ifindex}` : null)) : null
    const key = `${location}\u0000${reason}\u0000${dev}`
    const row = this.#rows.get(key)
    if (row) {
      row.count += e.count
      if (row.address === null && location !== null) row.address = e.address
    } else {
      this.#rows.set(key, { location, address: location !== null ? e.address : null, reason, dev, count: e.count })
    }
    this.#total += e.count
  }

  /** Rows by count descending, ties by key text, so output is stable. */
  sorted(): DropRow[] {
    const text = (r: DropRow) => `${r.location ?? ''} ${r.reason ?? ''} ${r.dev ?? ''}`
    return [...this.#rows.values()].sort((a, b) => b.count - a.count || text(a).localeCompare(text(b)))
  }

  clear(): void {
    this.#rows = new Map()
    this.#total = 0
  }
}

export interface DropwatchFormat {
  by: GroupBy
  top: number | null
  addresses: boolean
}

/** One line of a drop block: `where` and `why` are left out when empty. */
interface DropLine {
  count: number
  where: string
  why: string
}

/** `COUNT packets dropped at LOCATION (REASON)` (no header line is printed). */
const DROP_LINE_TABLE = defineTable<DropLine>([
  // As wide as the widest count of the block (fitWidths), at least 8.
  { header: 'COUNT', width: 8, align: 'right', fit: true, cell: (l) => l.count },
  { header: 'packets dropped', cell: () => 'packets dropped' },
  { header: 'at LOCATION', omitEmpty: true, cell: (l) => l.where },
  { header: '(REASON)', omitEmpty: true, cell: (l) => l.why },
])

/** A row as a line: `at [ADDRESS ]LOCATION`, `on DEV` or nothing, then `(REASON)` when grouped by reason. */
function dropLine(r: DropRow, f: DropwatchFormat): DropLine {
  let where: string
  if (f.by === 'dev') where = `on ${safeText(r.dev ?? '-')}`
  else if (f.by === 'reason') where = ''
  else where = `at ${f.addresses ? `${r.address ?? '-'} ` : ''}${r.location ?? '-'}`
  const why = f.by === 'reason' || (f.by === 'both' && r.reason !== null) ? `(${r.reason ?? '-'})` : ''
  return { count: r.count, where, why }
}

/** The text block of one interval or of the summary. */
export function dropBlock(head: string, rows: readonly DropRow[], total: number, f: DropwatchFormat): string {
  const shown = (f.top === null ? rows : rows.slice(0, f.top)).map((r) => dropLine(r, f))
  // The width comes from the rows shown; a larger rest pushes its own line.
  const table = fitWidths(DROP_LINE_TABLE, shown)
  let text = head + '\n'
  for (const l of shown) text += renderRow(table, l) + '\n'
  const hidden = rows.length - shown.length
  if (hidden > 0) {
    const rest = total - shown.reduce((s, l) => s + l.count, 0)
    const why = `(${hidden} more ${hidden === 1 ? 'line' : 'lines'}, --top ${f.top})`
    text += renderRow(table, { count: rest, where: 'elsewhere', why }) + '\n'
  }
  return text
}

export function jsonDrops(rows: readonly DropRow[], f: DropwatchFormat): Array<Record<string, unknown>> {
  const shown = f.top === null ? rows : rows.slice(0, f.top)
  return shown.map((r) => {
    const o: Record<string, unknown> = { location: r.location, address: r.address, reason: r.reason, count: r.count }
    if (f.by === 'dev') o.dev = r.dev
    return o
  })
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`
}

/** `Monitoring for dropped packets (ftrace, tracepoint skb:kfree_skb). Ctrl-C to stop.` */
export function dropwatchBanner(backend: string, plans: readonly KindPlan[]): string {
  const hooks = plans.map((p) => p.hook).filter(Boolean)
  // A backend may say how it gets locations as a `location:<how>` field.
  const how = plans.flatMap((p) => p.fields.filter((f) => f.startsWith('location:')).map((f) => `location via ${f.slice('location:'.length)}`))
  let text = `Monitoring for dropped packets (${[backend, ...hooks, ...how].join(', ')}). Ctrl-C to stop.`
  const blind = plans.flatMap((p) => p.cannotSee)
  if (blind.length) text += `\nNot seen by ${backend}: ${blind.join('; ')}.`
  return text
}

export class DropwatchOutput implements ToolOutput {
  readonly perEvent = false
  readonly kernelCounters = 'intervals'
  readonly #ctx: OutputContext<DropwatchOptions>
  readonly #f: DropwatchFormat
  readonly #intervalS: number
  readonly #interval: DropTable
  readonly #run: DropTable
  /** Cumulative per (location, reason) for /metrics, whatever --by says. */
  readonly #metrics = new DropTable('both')
  readonly #server: MetricsServer | null
  /** The device and core counters of the intervals printed so far. */
  readonly #core = new CoreTotals()
  #intervalStart = Date.now()
  #lostSeen = 0
  #intervals = 0

  constructor(ctx: OutputContext<DropwatchOptions>) {
    this.#ctx = ctx
    const o = ctx.options
    this.#f = { by: o.by, top: o.top, addresses: o.addresses }
    this.#intervalS = o.interval
    this.#interval = new DropTable(this.#f.by)
    this.#run = new DropTable(this.#f.by)
    this.#server =
      o.prometheus ? new MetricsServer(o.prometheus, () => [...dropFamilies(this.#metrics.sorted(), this.#lostSeen), ...coreFamilies(this.#core.counts())]) : null
  }

  async start(): Promise<void> {
    await this.#server?.listen()
  }

  close(): void {
    this.#server?.close()
  }

  header(): void {}

  suppressKey(): string {
    return ''
  }

  event(e: Event): void {
    if (e.kind !== 'skb-drop-count') return
    this.#interval.add(e)
    this.#run.add(e)
    this.#metrics.add(e)
  }

  interval(stats: { lost: number; kernel?: KernelCounts | null }): void {
    this.#print(stats.lost, this.#intervalS, stats.kernel ?? null)
  }

  /** One interval: its drops, then what the device and core counters counted in it (null: unreadable). */
  #print(lostTotal: number, intervalS: number, core: CoreCounts | null): void {
    if (core) this.#core.add(core)
    const lost = Math.max(0, lostTotal - this.#lostSeen)
    this.#lostSeen = Math.max(this.#lostSeen, lostTotal)
    const rows = this.#interval.sorted()
    const total = this.#interval.total
    this.#interval.clear()
    this.#intervalStart = Date.now()
    this.#intervals++
    const now = new Date()
    if (this.#ctx.common.json) {
      this.#ctx.out(
        jsonLine({ type: 'interval', time: now.toISOString(), interval_s: intervalS, total, drops: jsonDrops(rows, this.#f), lost, ...coreJson(core), backend: this.#ctx.backend }),
      )
      return
    }
    let head = `${localHms(now)}  ${plural(total, 'drop', 'drops')}`
    if (lost > 0) head += ` (${plural(lost, 'event', 'events')} lost: counts are low)`
    this.#ctx.out(dropBlock(head, rows, total, this.#f) + (core ? coreBlock(core) : ''))
  }

  finish(totals: RunTotals): void {
    // Drops since the last interval (e.g. at Ctrl-C) go in one last, shorter
    // interval, so the intervals always add up to the summary.
    const pendingLost = totals.lost > this.#lostSeen
    // Likewise the device and core counters: the run's minus the intervals'.
    const pendingCore = totals.kernel ? this.#core.rest(totals.kernel) : null
    if (this.#interval.total > 0 || pendingLost || this.#intervals === 0 || (pendingCore && !isEmpty(pendingCore))) {
      const elapsed = Math.round((Date.now() - this.#intervalStart) / 100) / 10
      this.#print(totals.lost, Math.min(this.#intervalS, elapsed), pendingCore)
    }
    const rows = this.#run.sorted()
    const total = this.#run.total
    if (this.#ctx.common.json) {
      this.#ctx.out(
        jsonLine({ type: 'summary', duration_s: totals.durationS, total, drops: jsonDrops(rows, this.#f), lost: totals.lost, ...coreJson(totals.kernel), backend: this.#ctx.backend }),
      )
      return
    }
    let head = `Total over ${totals.durationS} s: ${plural(total, 'drop', 'drops')}, ${totals.lost} lost`
    if (totals.lost > 0) head += ' (counts are low by up to that many)'
    this.#ctx.out('\n' + dropBlock(head, rows, total, this.#f) + (totals.kernel ? coreBlock(totals.kernel) : ''))
  }
}
