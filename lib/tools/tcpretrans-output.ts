// tcpretrans output: one line (or JSON record) per retransmit, or per-flow
// counts with -c (SPEC §5).
import { constants } from 'node:os'
import type { RetransmitEvent } from '../events.js'
import { jsonLine } from '../format/json.js'
import { localHms } from '../format/clock.js'
import { col, endpoint, safeText } from '../format/text.js'
import type { TcpretransOptions } from './tcpretrans.js'
import type { OutputContext, RunTotals, ToolOutput } from './tool.js'

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]))

/** R retransmit (incl. SYN-ACK), L loss probe, F failed attempt. */
export function typeLetter(e: RetransmitEvent): 'R' | 'L' | 'F' {
  if (e.kind === 'tcp-loss-probe') return 'L'
  return e.err !== null && e.err !== 0 ? 'F' : 'R'
}

export function jsonType(e: RetransmitEvent): 'retransmit' | 'tlp' | 'failed' {
  const t = typeLetter(e)
  return t === 'L' ? 'tlp' : t === 'F' ? 'failed' : 'retransmit'
}

export function errText(err: number | null): string {
  if (err === null || err === 0) return '-'
  const name = ERRNO_NAMES.get(-err)
  return name ? `${err}(${name})` : String(err)
}

function stackText(stack: RetransmitEvent['stack']): string {
  if (stack === 'not-sampled') return '\t(stack not sampled)\n'
  return stack ? stack.map((f) => `\t${f}\n`).join('') : '\t(stack not recorded)\n'
}

interface FlowCount {
  e: RetransmitEvent
  count: number
}

export class TcpretransOutput implements ToolOutput {
  readonly perEvent: boolean
  readonly #ctx: OutputContext<TcpretransOptions>
  readonly #seq: boolean
  readonly #err: boolean
  readonly #stack: boolean
  #counts = new Map<string, FlowCount>()
  readonly #totals = { retransmit: 0, synack: 0, tlp: 0, failed: 0 }

  constructor(ctx: OutputContext<TcpretransOptions>) {
    this.#ctx = ctx
    this.perEvent = !ctx.options.count
    this.#seq = ctx.options.seq
    this.#err = ctx.options.err
    this.#stack = ctx.options.stack
  }

  header(): void {
    if (this.#ctx.common.json || !this.perEvent) return
    let h = `${col('TIME', 8)} ${col('PID', 6)} ${col('IP', 2)} ${col('LADDR:LPORT', 22)} T> ${col('RADDR:RPORT', 22)} ${col('STATE', 11)}`
    if (this.#seq) h += ` ${col('SEQ', 10)}`
    if (this.#err) h += ' ERR'
    this.#ctx.out(h.trimEnd() + '\n')
  }

  suppressKey(e: RetransmitEvent): string {
    return e.state ?? '-'
  }

  event(e: RetransmitEvent): void {
    const t = typeLetter(e)
    if (t === 'R') {
      if (e.kind === 'tcp-synack-retransmit') this.#totals.synack++
      else this.#totals.retransmit++
    } else if (t === 'L') this.#totals.tlp++
    else this.#totals.failed++
    if (!this.perEvent) {
      const key = `${e.laddr}|${e.lport}|${e.raddr}|${e.rport}`
      const c = this.#counts.get(key)
      if (c) c.count++
      else this.#counts.set(key, { e, count: 1 })
      return
    }
    if (this.#ctx.common.json) {
      this.#ctx.out(jsonLine(this.#record(e)))
      return
    }
    let line = `${col(this.#ctx.clock.hms(e.tsNs), 8)} ${col(e.pid, 6)} ${col(e.family, 2)} ${col(endpoint(e.laddr, e.lport), 22)} ${t}> ${col(endpoint(e.raddr, e.rport), 22)} ${col(e.state ?? '-', 11)}`
    if (this.#seq) line += ` ${col(e.seq ?? '-', 10)}`
    if (this.#err) line += ` ${errText(e.err)}`
    line = line.trimEnd() + '\n'
    if (this.#stack) line += stackText(e.stack)
    this.#ctx.out(line)
  }

  #record(e: RetransmitEvent): Record<string, unknown> {
    const r: Record<string, unknown> = {
      type: jsonType(e),
      time: this.#ctx.clock.iso(e.tsNs),
      ts_ns: e.tsNs,
      pid: e.pid,
      comm: e.comm,
      family: e.family,
      laddr: e.laddr,
      lport: e.lport,
      raddr: e.raddr,
      rport: e.rport,
      state: e.state,
      netns: e.netns,
    }
    if (this.#seq) r.seq = e.seq
    if (this.#err) r.err = e.err ?? 0
    if (this.#stack) r.stack = e.stack === 'not-sampled' ? null : e.stack
    r.backend = this.#ctx.backend
    return r
  }

  interval(): void {
    this.#printCounts()
  }

  #printCounts(): void {
    const rows = [...this.#counts.values()].sort((a, b) => b.count - a.count)
    this.#counts = new Map()
    const time = new Date().toISOString()
    if (this.#ctx.common.json) {
      for (const { e, count } of rows) {
        this.#ctx.out(
          jsonLine({ type: 'count', time, family: e.family, laddr: e.laddr, lport: e.lport, raddr: e.raddr, rport: e.rport, retransmits: count, backend: this.#ctx.backend }),
        )
      }
      return
    }
    let text = ''
    if (this.#ctx.options.interval !== null) text += `${localHms(new Date())}\n`
    text += `${col('LADDR:LPORT', 28)} <-> ${col('RADDR:RPORT', 28)} RETRANSMITS\n`
    for (const { e, count } of rows) {
      text += `${col(endpoint(e.laddr, e.lport), 28)} <-> ${col(endpoint(e.raddr, e.rport), 28)} ${count}\n`
    }
    this.#ctx.out(text)
  }

  finish(totals: RunTotals): void {
    if (!this.perEvent) this.#printCounts()
    const t = this.#totals
    if (this.#ctx.common.json) {
      this.#ctx.out(
        jsonLine({
          type: 'summary',
          duration_s: totals.durationS,
          retransmits: t.retransmit + t.synack,
          synack: t.synack,
          tlp: t.tlp,
          failed: t.failed,
          lost: totals.lost,
          suppressed: totals.suppressed,
          unresolved: totals.unresolved,
          backend: this.#ctx.backend,
        }),
      )
      return
    }
    let s = `${t.retransmit + t.synack} retransmits (${t.synack} SYN-ACK)`
    if (this.#ctx.options.lossprobe) s += `, ${t.tlp} loss probes`
    if (this.#err) s += `, ${t.failed} failed attempts`
    s += `, ${totals.lost} lost`
    if (totals.suppressed) s += `, ${totals.suppressed} lines suppressed by --rate-limit`
    if (totals.unresolved) s += `, ${totals.unresolved} sockets unresolved`
    this.#ctx.note(`Ending tracing: ${safeText(s)}.`)
  }
}
