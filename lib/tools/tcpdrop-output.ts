// tcpdrop output (SPEC §4): one line per dropped segment (bcc columns plus
// REASON), the kernel stack indented under it, and a summary by reason at exit.
import type { TcpDropEvent } from '../events.js'
import type { EventClock } from '../format/clock.js'
import { defineTable, renderHeader, renderRow, type Table } from '../format/columns.js'
import { jsonLine } from '../format/json.js'
import { endpoint, safeText } from '../format/text.js'
import type { TcpdropOptions } from './tcpdrop.js'
import type { KernelCounts } from '../kernel/net-counters.js'
import { counterLabel, TCP_DROP_COUNTERS } from '../kernel/tcp-drop-counters.js'
import type { OutputContext, RunTotals, ToolOutput } from './tool.js'

/** `TIME PID IP SADDR:SPORT > DADDR:DPORT STATE (FLAGS) REASON [OWNER]` */
function tcpdropTable(clock: EventClock, owner: boolean): Table<TcpDropEvent> {
  return defineTable<TcpDropEvent>([
    { header: 'TIME', width: 8, cell: (e) => clock.hms(e.tsNs) },
    { header: 'PID', width: 7, cell: (e) => e.pid },
    { header: 'IP', width: 2, cell: (e) => e.family },
    { header: 'SADDR:SPORT', width: 22, cell: (e) => endpoint(e.saddr, e.sport) },
    { header: 'DADDR:DPORT', width: 22, sep: ' > ', cell: (e) => endpoint(e.daddr, e.dport) },
    { header: 'STATE', width: 11, cell: (e) => e.state ?? '-' },
    { header: '(FLAGS)', width: 9, cell: (e) => (e.tcpflags ? `(${e.tcpflags.join('|') || '-'})` : '-') },
    // 17 and the space before OWNER: a row's owner starts 18 columns after REASON's start, or
    // one space after a longer reason.
    { header: 'REASON', width: 17, cell: (e) => e.reason ?? '-' },
    // The header has always had one space more before OWNER than the rows (kept as printed).
    { header: 'OWNER', headerSep: '  ', when: owner, cell: (e) => (e.owner ? `${e.owner.pid}/${safeText(e.owner.comm)}` : '-') },
  ])
}

export class TcpdropOutput implements ToolOutput {
  readonly perEvent = true
  readonly kernelCounters = 'summary'
  readonly #ctx: OutputContext<TcpdropOptions>
  readonly #stacks: boolean
  readonly #byReason = new Map<string, number>()
  #total = 0
  readonly #table: Table<TcpDropEvent>

  constructor(ctx: OutputContext<TcpdropOptions>) {
    this.#ctx = ctx
    this.#stacks = !ctx.options.noStack
    this.#table = tcpdropTable(ctx.clock, ctx.options.owner)
  }

  header(): void {
    if (this.#ctx.common.json) return
    this.#ctx.out(renderHeader(this.#table) + '\n')
  }

  suppressKey(e: TcpDropEvent): string {
    return `${e.reason ?? '-'} at ${e.location ?? '?'}`
  }

  event(e: TcpDropEvent): void {
    this.#total++
    const reason = e.reason ?? '-'
    this.#byReason.set(reason, (this.#byReason.get(reason) ?? 0) + 1)
    if (this.#ctx.common.json) {
      this.#ctx.out(jsonLine(this.#record(e)))
      return
    }
    let line = renderRow(this.#table, e) + '\n'
    if (this.#stacks) {
      if (e.stack === 'not-sampled') line += '\t(stack not sampled)\n'
      else if (e.stack) line += e.stack.map((f) => `\t${f}\n`).join('')
    }
    this.#ctx.out(line)
  }

  #record(e: TcpDropEvent): Record<string, unknown> {
    const r: Record<string, unknown> = {
      type: 'drop',
      time: this.#ctx.clock.iso(e.tsNs),
      ts_ns: e.tsNs,
      pid: e.pid,
      comm: e.comm,
      family: e.family,
      saddr: e.saddr,
      sport: e.sport,
      daddr: e.daddr,
      dport: e.dport,
      state: e.state,
      tcpflags: e.tcpflags,
      reason: e.reason,
      reason_code: e.reasonCode,
      location: e.location,
      netns: e.netns,
      ifindex: e.ifindex,
      dev: e.dev,
    }
    if (this.#stacks) r.stack = e.stack === 'not-sampled' ? null : e.stack
    if (this.#stacks && e.stack === 'not-sampled') r.stack_sampled = false
    if (this.#ctx.options.owner) r.owner = e.owner
    r.backend = this.#ctx.backend
    return r
  }

  finish(totals: RunTotals): void {
    const byReason = [...this.#byReason].sort((a, b) => b[1] - a[1])
    const counters = totals.kernel ? tcpDropCounts(totals.kernel) : null
    if (this.#ctx.common.json) {
      this.#ctx.out(
        jsonLine({
          type: 'summary',
          duration_s: totals.durationS,
          total: this.#total,
          by_reason: Object.fromEntries(byReason),
          hidden_not_specified: totals.hidden,
          lost: totals.lost,
          suppressed: totals.suppressed,
          kernel_netns: totals.kernel?.netns ?? null,
          kernel_counters: counters && Object.fromEntries(counters),
          backend: this.#ctx.backend,
        }),
      )
      return
    }
    const lines = [`${this.#total} TCP drops shown${byReason.length ? ':' : '.'}`]
    for (const [reason, n] of byReason) lines.push(`  ${String(n).padStart(8)} ${reason}`)
    if (totals.hidden > 0) {
      lines.push(`${totals.hidden} drops with reason NOT_SPECIFIED not shown; --all-reasons shows them`)
    }
    lines.push(`${totals.lost} lost, ${totals.suppressed} suppressed by --rate-limit`)
    if (totals.kernel && counters) lines.push(...kernelLines(totals.kernel.netns, counters, this.#ctx.unseenCounters, this.#ctx.backend))
    this.#ctx.note(lines.join('\n'))
  }
}

/** The TCP drop counters that moved, in TCP_DROP_COUNTERS order. */
function tcpDropCounts(k: KernelCounts): Array<[string, number]> {
  return TCP_DROP_COUNTERS.filter((n) => (k.mib.get(n) ?? 0) !== 0).map((n) => [n, k.mib.get(n) ?? 0])
}

/** `Kernel counters (netns N), TCP segments dropped: TCPZeroWindowDrop 19, …`, the
 *  caveat, and what of it this backend cannot see on this kernel. */
function kernelLines(netns: number, counts: Array<[string, number]>, unseen: ReadonlySet<string>, backend: string): string[] {
  if (counts.length === 0) return [`Kernel counters (netns ${netns}): no TCP drop counter moved.`]
  const lines = [
    `Kernel counters (netns ${netns}), TCP segments dropped: ${counts.map(([n, v]) => `${counterLabel(n)} ${v}`).join(', ')}`,
    "  (the kernel's own count: one drop can move two counters or none; netfilter and closed-port drops move none of these)",
  ]
  const blind = counts.filter(([n]) => unseen.has(n))
  if (blind.length) {
    const what = blind.map(([n, v]) => `${v} ${counterLabel(n)}`).join(', ')
    lines.push(`  kernel counted ${what}; ${backend} cannot see these data-path drops on this kernel (see --list-backends)`)
  }
  return lines
}
