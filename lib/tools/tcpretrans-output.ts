// tcpretrans output: one line (or JSON record) per retransmit, or per-flow
// counts with -c (SPEC §5).
import { constants } from 'node:os'
import type { RetransmitEvent } from '../events.js'
import type { KernelCounts } from '../kernel/net-counters.js'
import { jsonLine } from '../format/json.js'
import { localHms, type EventClock } from '../format/clock.js'
import { defineTable, renderHeader, renderRow, type Table } from '../format/columns.js'
import { endpoint, safeText } from '../format/text.js'
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

/** `TIME PID IP LADDR:LPORT T> RADDR:RPORT STATE [SEQ] [ERR]`, T being the type letter. */
function retransmitTable(clock: EventClock, seq: boolean, err: boolean): Table<RetransmitEvent> {
  return defineTable<RetransmitEvent>(
    [
      { header: 'TIME', width: 8, cell: (e) => clock.hms(e.tsNs) },
      { header: 'PID', width: 6, cell: (e) => e.pid },
      { header: 'IP', width: 2, cell: (e) => e.family },
      { header: 'LADDR:LPORT', width: 22, cell: (e) => endpoint(e.laddr, e.lport) },
      { header: 'T', cell: typeLetter },
      { header: 'RADDR:RPORT', width: 22, sep: '> ', cell: (e) => endpoint(e.raddr, e.rport) },
      { header: 'STATE', width: 11, cell: (e) => e.state ?? '-' },
      { header: 'SEQ', width: 10, when: seq, cell: (e) => e.seq ?? '-' },
      { header: 'ERR', when: err, cell: (e) => errText(e.err) },
    ],
    { trimEnd: true },
  )
}

/** -c: `LADDR:LPORT <-> RADDR:RPORT RETRANSMITS`, a row per flow. */
const FLOW_COUNT_TABLE: Table<FlowCount> = defineTable<FlowCount>([
  { header: 'LADDR:LPORT', width: 28, cell: ({ e }) => endpoint(e.laddr, e.lport) },
  { header: 'RADDR:RPORT', width: 28, sep: ' <-> ', cell: ({ e }) => endpoint(e.raddr, e.rport) },
  { header: 'RETRANSMITS', cell: ({ count }) => count },
])

/** a + b segments, unknown (null) once either is. */
function plusSegs(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : a + b
}

export class TcpretransOutput implements ToolOutput {
  readonly perEvent: boolean
  readonly kernelCounters = 'summary'
  readonly #ctx: OutputContext<TcpretransOptions>
  readonly #seq: boolean
  readonly #err: boolean
  readonly #stack: boolean
  #counts = new Map<string, FlowCount>()
  readonly #totals = { retransmit: 0, synack: 0, tlp: 0, failed: 0 }
  /** Retransmits (R) and their segments by namespace (null: unknown), for the kernel comparison. */
  readonly #byNetns = new Map<number | null, { records: number; segs: number | null }>()
  readonly #table: Table<RetransmitEvent>

  constructor(ctx: OutputContext<TcpretransOptions>) {
    this.#ctx = ctx
    this.perEvent = !ctx.options.count
    this.#seq = ctx.options.seq
    this.#err = ctx.options.err
    this.#stack = ctx.options.stack
    this.#table = retransmitTable(ctx.clock, this.#seq, this.#err)
  }

  header(): void {
    if (this.#ctx.common.json || !this.perEvent) return
    this.#ctx.out(renderHeader(this.#table) + '\n')
  }

  suppressKey(e: RetransmitEvent): string {
    return e.state ?? '-'
  }

  event(e: RetransmitEvent): void {
    const t = typeLetter(e)
    if (t === 'R') {
      if (e.kind === 'tcp-synack-retransmit') this.#totals.synack++
      else this.#totals.retransmit++
      const ns = this.#byNetns.get(e.netns) ?? { records: 0, segs: 0 }
      ns.records++
      ns.segs = plusSegs(ns.segs, e.segs)
      this.#byNetns.set(e.netns, ns)
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
    let line = renderRow(this.#table, e) + '\n'
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
    r.segs = e.segs
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
    text += renderHeader(FLOW_COUNT_TABLE) + '\n'
    for (const row of rows) text += renderRow(FLOW_COUNT_TABLE, row) + '\n'
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
          ...this.#kernelJson(totals.kernel),
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
    if (totals.kernel) this.#ctx.note(this.#kernelLine(totals.kernel))
  }

  /** Retransmits (and their segments) of the namespace the kernel counters are of;
   *  a record whose namespace the backend cannot tell is taken as of it. */
  #seen(netns: number): { records: number; segs: number | null } {
    const sum = { records: 0, segs: 0 as number | null }
    for (const [ns, c] of this.#byNetns) {
      if (ns !== null && ns !== netns) continue
      sum.records += c.records
      sum.segs = plusSegs(sum.segs, c.segs)
    }
    return sum
  }

  #counters(k: KernelCounts): Record<string, number> {
    const names = ['TcpRetransSegs', 'TcpExtTCPRetransFail', 'TcpExtTCPSynRetrans', ...(this.#ctx.options.lossprobe ? ['TcpExtTCPLossProbes'] : [])]
    return Object.fromEntries(names.map((n) => [n, k.mib.get(n) ?? 0]))
  }

  #kernelJson(k: KernelCounts | null): Record<string, unknown> {
    if (!k) return { kernel_counters: null }
    return { segs: this.#seen(k.netns).segs, kernel_netns: k.netns, kernel_counters: this.#counters(k) }
  }

  /** `Kernel counters (netns N): TcpRetransSegs − TCPRetransFail = 85 (records: 85 segments), …` */
  #kernelLine(k: KernelCounts): string {
    const c = this.#counters(k)
    const seen = this.#seen(k.netns)
    const retrans = (c.TcpRetransSegs ?? 0) - (c.TcpExtTCPRetransFail ?? 0)
    const records = seen.segs === null ? `records: ${seen.records}, one per skb; this backend cannot read the segments in each` : `records: ${seen.segs} segments in ${seen.records} retransmits`
    let s = `Kernel counters (netns ${k.netns}): TcpRetransSegs − TCPRetransFail = ${retrans} (${records}); TCPSynRetrans ${c.TcpExtTCPSynRetrans}`
    if (this.#ctx.options.lossprobe) s += `; TCPLossProbes ${c.TcpExtTCPLossProbes} (records: ${this.#totals.tlp})`
    return s
  }
}
