// skb:kfree_skb as the ftrace hook for tcpdrop (kernels whose kfree_skb has
// `rx_sk`, 6.11+). The event text has no tuple and no protocol of the socket,
// so the receiving socket is joined with /proc/net/tcp{,6} by pointer (SPEC §2):
// the tuple and STATE come from /proc, FLAGS are unknown (`-`). The join needs
// both sides to print the pointer the same way: with kptr_restrict=0 both show
// the same hashed value (hash-ptr stays on); with kptr_restrict=1 and
// CAP_SYSLOG /proc shows raw pointers (hash-ptr off); with 2 it is impossible.
// Drops whose socket is not in /proc/net/tcp{,6} (UDP sockets, closed ones)
// are counted as unresolved, never guessed.
import type { RunRequest } from '../../lib/backend.js'
import type { KindOptions, TcpDropEvent } from '../../lib/events.js'
import type { FilterName, FilterPlace } from '../../lib/filters.js'
import { commOfPid } from '../../lib/kernel/comm.js'
import { DropReasons } from '../../lib/kernel/drop-reasons.js'
import { cleanFrame } from '../../lib/kernel/stack-frames.js'
import { expectedPointerMode, procNetTcpProblem, SocketTable } from '../../lib/kernel/socket-table.js'
import { hasField } from '../format.js'
import { parseKeyValues } from '../trace-line.js'
import type { TraceEventLine, TracepointHook, TracepointRun } from './hook.js'

const FILTERS: Partial<Record<FilterName, FilterPlace>> = { family: 'user', port: 'user', addr: 'user', netns: 'user', reason: 'kernel' }

function joinProblem(): string | null {
  const { mode, kptrRestrict } = expectedPointerMode()
  if (mode === 'zero') return `kptr_restrict=${kptrRestrict}: /proc/net/tcp prints no socket pointers, so drops cannot be joined to sockets (--allow-sysctl sets it to 1 for the run)`
  if (mode === 'unknown') return 'cannot read /proc/sys/kernel/kptr_restrict'
  return procNetTcpProblem()
}

const CANNOT_SEE = [
  'TCP flags (FLAGS prints -)',
  'drops without a receiving socket (no rx_sk): SYNs to closed ports, drops before the socket lookup',
  'drops on sockets that closed before /proc/net/tcp was read (counted as unresolved)',
  'the sender of segments dropped on listening sockets (/proc shows no peer; counted as unresolved)',
  'ifindex and device',
]

export const tcpDrop: TracepointHook<'tcp-drop'> = {
  system: 'skb',
  event: 'kfree_skb',
  plan(fmt, request, run) {
    const fields = ['pid', 'comm', 'family', 'saddr', 'sport', 'daddr', 'dport', 'state', 'reason', 'location', 'stack']
    let reason: string | null = null
    if (!hasField(fmt, 'rx_sk')) reason = 'skb:kfree_skb has no rx_sk field on this kernel (added in 6.11): ftrace cannot tell TCP drops here'
    else if (!hasField(fmt, 'reason')) reason = 'skb:kfree_skb has no reason field'
    else reason = joinProblem()
    if (reason === null && request.options.owner) reason = '--owner: ftrace has no socket inode for drops (use the bpf backend)'
    let reasons: DropReasons | undefined
    const reasonTable = () => (reasons ??= DropReasons.load({ symbolic: fmt.symbolic.get('reason') ?? null }))
    return {
      info: { usable: reason === null, reason, fields, filters: FILTERS, cannotSee: CANNOT_SEE, reasons: reasonTable },
      open: () => new TcpDropRun(reasonTable(), request.options, run),
    }
  },
}

/** One run's join of kfree_skb lines with /proc/net/tcp{,6}. */
class TcpDropRun implements TracepointRun {
  readonly #table: SocketTable
  readonly #reasons: DropReasons
  readonly #options: KindOptions['tcp-drop']
  readonly #netns: number | null
  readonly kernelFilter: string
  /** Same representation as /proc/net/tcp: hashed on both sides, or raw on both. */
  readonly instanceOptions = { 'hash-ptr': expectedPointerMode().mode !== 'raw' }
  #unresolved = 0
  #hidden = 0

  constructor(reasons: DropReasons, options: KindOptions['tcp-drop'], run: RunRequest) {
    this.#reasons = reasons
    this.#options = options
    this.#netns = run.filters.netns
    this.#table = new SocketTable({ tables: ['tcp', 'tcp6'], netns: run.filters.netns })
    const codes = run.filters.reasons.map((r) => reasons.code(r)).filter((c): c is number => c !== null)
    this.kernelFilter = ['rx_sk != 0', ...(codes.length ? [`(${codes.map((c) => `reason == ${c}`).join(' || ')})`] : [])].join(' && ')
  }

  decode(line: TraceEventLine): TcpDropEvent | null {
    const kv = parseKeyValues(line.body)
    const sock = kv.get('rx_sk')
    if (!sock) return null
    const entry = this.#table.lookup(sock)
    // A listener's /proc line has no peer: the segment's source is unknown.
    if (!entry || entry.state === 'LISTEN') {
      this.#unresolved++
      return null
    }
    const reasonName = /reason: (\S+)\s*$/.exec(line.body)?.[1] ?? null
    if (this.#options.hideNotSpecified && reasonName === 'NOT_SPECIFIED') {
      this.#hidden++
      return null
    }
    const location = kv.get('location')
    return {
      kind: 'tcp-drop',
      tsNs: line.tsNs,
      pid: line.pid,
      comm: line.comm === '<...>' ? commOfPid(line.pid) : line.comm,
      family: entry.family,
      // The receiving socket's peer sent the dropped segment.
      saddr: entry.raddr,
      sport: entry.rport,
      daddr: entry.laddr,
      dport: entry.lport,
      state: entry.state,
      tcpflags: null,
      reason: reasonName,
      reasonCode: reasonName === null ? null : this.#reasons.code(reasonName),
      location: location ? cleanFrame(location) : null,
      netns: this.#netns,
      ifindex: null,
      dev: null,
      stack: null,
      owner: null,
      skbId: kv.get('skbaddr') ?? null,
    }
  }

  stats(): { unresolved: number; hidden: number } {
    return { unresolved: this.#unresolved, hidden: this.#hidden }
  }
}
