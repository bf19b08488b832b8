// tcp:tcp_retransmit_skb and tcp:tcp_retransmit_synack as ftrace hooks.
// Layouts differ by kernel and are read from the format file: `family` is
// missing on old kernels (the wire family then comes from the v4-mapped
// saddr_v6, which the kernel fills for IPv4 sockets too), and since 6.17 the
// skb event fires for failed attempts too, with `err`.
import type { RunRequest } from '../../lib/backend.js'
import type { RetransmitEvent } from '../../lib/events.js'
import type { FilterName, FilterPlace } from '../../lib/filters.js'
import { commOfPid } from '../../lib/kernel/comm.js'
import { fromIpv6Bytes, ipv6Bytes, parseInetAddr, type InetAddr } from '../../lib/kernel/inet-addr.js'
import { normalizeTcpState } from '../../lib/kernel/tcp-states.js'
import { hasField } from '../format.js'
import { parseKeyValues } from '../trace-line.js'
import type { TraceEventLine, TracepointHook } from './hook.js'

const FILTER_PLACES: Partial<Record<FilterName, FilterPlace>> = {
  port: 'kernel',
  family: 'user',
  addr: 'user',
  netns: 'none',
}

function netnsProblem(run: RunRequest, event: string): string | null {
  return run.filters.netns !== null ? `--netns: tcp:${event} has no network-namespace field` : null
}

function portFilter(run: RunRequest): string {
  if (run.filters.ports.length === 0) return ''
  return '(' + run.filters.ports.map((p) => `sport == ${p} || dport == ${p}`).join(' || ') + ')'
}

function address(kv: Map<string, string>, v6Key: string, v4Key: string): InetAddr | null {
  const v6 = kv.get(v6Key)
  if (v6 !== undefined) {
    const bytes = ipv6Bytes(v6)
    return bytes ? fromIpv6Bytes(bytes) : null
  }
  const v4 = kv.get(v4Key)
  return v4 === undefined ? null : parseInetAddr(v4)
}

function comm(raw: string, pid: number): string | null {
  return raw === '<...>' ? commOfPid(pid) : raw
}

/** The fields both events print the same way: addresses, ports, task, socket. */
function retransmitEvent(
  kind: RetransmitEvent['kind'],
  line: Omit<TraceEventLine, 'body'>,
  kv: Map<string, string>,
  extra: Pick<RetransmitEvent, 'state' | 'err'>,
): RetransmitEvent | null {
  const src = address(kv, 'saddrv6', 'saddr')
  const dst = address(kv, 'daddrv6', 'daddr')
  if (!src || !dst) return null
  return {
    kind,
    tsNs: line.tsNs,
    pid: line.pid,
    comm: comm(line.comm, line.pid),
    family: src.family,
    laddr: src.text,
    lport: Number(kv.get('sport')),
    raddr: dst.text,
    rport: Number(kv.get('dport')),
    netns: null,
    seq: null,
    segs: null, // the tracepoint does not carry it
    stack: null,
    sockId: kv.get('skaddr') ?? null,
    ...extra,
  }
}

export const tcpRetransmitSkb: TracepointHook<'tcp-retransmit'> = {
  system: 'tcp',
  event: 'tcp_retransmit_skb',
  plan(fmt, request, run) {
    const hasErr = hasField(fmt, 'err')
    const fields = ['pid', 'comm', 'family', 'laddr', 'lport', 'raddr', 'rport', 'state', 'stack']
    if (hasErr) fields.push('err')
    const reason = netnsProblem(run, 'tcp_retransmit_skb')
    const cannotSee = ['network namespace']
    const cannotSeeOf = { seq: 'sequence numbers', ...(hasErr ? {} : { err: 'failed retransmit attempts (no err field before 6.17)' }) }
    const includeFailed = request.options.includeFailed
    return {
      info: { usable: reason === null, reason, fields, filters: FILTER_PLACES, cannotSee, cannotSeeOf, fieldNotes: { err: 'on this kernel (added in 6.17): failed attempts are not traced' } },
      open: () => ({
        // Default set = retransmits handed to the device (what TcpRetransSegs counts).
        kernelFilter: [hasErr && !includeFailed ? 'err == 0' : '', portFilter(run)].filter(Boolean).join(' && '),
        decode(line) {
          const kv = parseKeyValues(line.body)
          const errText = kv.get('err')
          const err = errText === undefined ? null : Number(errText)
          if (err !== null && err !== 0 && !includeFailed) return null
          const state = kv.get('state')
          return retransmitEvent('tcp-retransmit', line, kv, { state: state === undefined ? null : normalizeTcpState(state), err })
        },
      }),
    }
  },
}

export const tcpRetransmitSynack: TracepointHook<'tcp-synack-retransmit'> = {
  system: 'tcp',
  event: 'tcp_retransmit_synack',
  plan(_fmt, _request, run) {
    const fields = ['pid', 'comm', 'family', 'laddr', 'lport', 'raddr', 'rport', 'state', 'stack']
    const reason = netnsProblem(run, 'tcp_retransmit_synack')
    return {
      info: { usable: reason === null, reason, fields, filters: FILTER_PLACES, cannotSee: ['network namespace'], cannotSeeOf: { seq: 'sequence numbers' } },
      open: () => ({
        kernelFilter: portFilter(run),
        // The request socket is in SYN_RECV by definition; the event has no state field.
        decode: (line) => retransmitEvent('tcp-synack-retransmit', line, parseKeyValues(line.body), { state: 'SYN_RECV', err: null }),
      }),
    }
  },
}
