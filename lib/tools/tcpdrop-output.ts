// tcpdrop output (SPEC §4): one line per dropped segment (bcc columns plus
// REASON), the kernel stack indented under it, and a summary by reason at exit.
import type { TcpDropEvent } from '../events.js'
import { jsonLine } from '../format/json.js'
import { col, endpoint, safeText } from '../format/text.js'
import type { TcpdropOptions } from './tcpdrop.js'
import type { OutputContext, RunTotals, ToolOutput } from './tool.js'

export class TcpdropOutput implements ToolOutput {
  readonly perEvent = true
  readonly #ctx: OutputContext<TcpdropOptions>
  readonly #stacks: boolean
  readonly #byReason = new Map<string, number>()
  #total = 0

  constructor(ctx: OutputContext<TcpdropOptions>) {
    this.#ctx = ctx
    this.#stacks = !ctx.options.noStack
  }

  header(): void {
    if (this.#ctx.common.json) return
    let h = `${col('TIME', 8)} ${col('PID', 7)} ${col('IP', 2)} ${col('SADDR:SPORT', 22)} > ${col('DADDR:DPORT', 22)} ${col('STATE', 11)} ${col('(FLAGS)', 9)} REASON`
    if (this.#ctx.options.owner) h = `${h.padEnd(h.length + 18 - 'REASON'.length)} OWNER`
    this.#ctx.out(h + '\n')
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
    const flags = e.tcpflags ? `(${e.tcpflags.join('|') || '-'})` : '-'
    let line = `${col(this.#ctx.clock.hms(e.tsNs), 8)} ${col(e.pid, 7)} ${col(e.family, 2)} ${col(endpoint(e.saddr, e.sport), 22)} > ${col(endpoint(e.daddr, e.dport), 22)} ${col(e.state ?? '-', 11)} ${col(flags, 9)} ${reason}`
    if (this.#ctx.options.owner) line = `${line.padEnd(line.length + Math.max(1, 18 - reason.length))}${e.owner ? `${e.owner.pid}/${safeText(e.owner.comm)}` : '-'}`
    line += '\n'
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
    this.#ctx.note(lines.join('\n'))
  }
}
