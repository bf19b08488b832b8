// The TypeScript side of bpf/netdrop.h: byte offsets of every field the
// decoder reads and the encoder writes. test/unit/bpf-abi.test.ts checks each
// offset and size against the BTF of the compiled objects, so the two sides
// cannot drift apart silently.
import { fromIpv6Bytes, type InetAddr } from '../lib/kernel/inet-addr.js'

export const MAX_STACK_DEPTH = 32
export const MAX_FILTER_PORTS = 8
export const MAX_FILTER_ADDRS = 8
export const MAX_FILTER_REASONS = 16

export const RETRANS_TYPE = { skb: 1, synack: 2, tlp: 3 } as const
export const DROP_FLAG = { hasSocket: 1, hasTcpHeader: 2, stackNotSampled: 4, hasReason: 8 } as const
export const COUNTER = { lost: 0, hiddenNotSpecified: 1, suppressed: 2, stackNotSampled: 3, max: 4 } as const

/** struct retrans_event */
export const RETRANS_EVENT = {
  size: 344,
  fields: {
    ts_ns: 0,
    pid: 8,
    netns: 12,
    type: 16,
    family: 17,
    state: 18,
    lport: 20,
    rport: 22,
    laddr: 24,
    raddr: 40,
    seq: 56,
    err: 60,
    comm: 64,
    stack_bytes: 80,
    stack: 88,
  },
} as const

/** struct drop_event */
export const DROP_EVENT = {
  size: 400,
  fields: {
    ts_ns: 0,
    location: 8,
    skb: 16,
    sock_ino: 24,
    pid: 32,
    netns: 36,
    reason: 40,
    ifindex: 44,
    family: 48,
    state: 49,
    tcpflags: 50,
    flags: 51,
    sport: 52,
    dport: 54,
    saddr: 56,
    daddr: 72,
    comm: 88,
    dev: 104,
    owner_comm: 120,
    owner_tgid: 136,
    stack_bytes: 140,
    stack: 144,
  },
} as const

/** struct filter_config (the programs' .rodata) */
export const FILTER_CONFIG = {
  size: 236,
  fields: {
    family: 0,
    nports: 1,
    naddrs: 2,
    nreasons: 3,
    netns: 4,
    ports: 8,
    addrs: 24,
    reasons: 152,
    rate_limit: 216,
    stack_rate: 220,
    not_specified: 224,
    want_stack: 228,
    include_failed: 229,
    hide_not_specified: 230,
    group_by_dev: 231,
    use_perf_buffer: 232,
    want_owner: 233,
  },
} as const

/** struct drop_count_key (dropwatch's counting map) */
export const DROP_COUNT_KEY = {
  size: 40,
  fields: { location: 0, reason: 8, netns: 12, protocol: 16, ifindex: 20, dev: 24 },
} as const

/** struct suppressed_key */
export const SUPPRESSED_KEY = { size: 16, fields: { location: 0, reason: 8 } } as const

const utf8 = new TextDecoder()

/** A NUL-terminated string field (ASCII fast path: this runs per event). */
export function cString(dv: DataView, offset: number, max: number): string {
  let s = ''
  for (let i = 0; i < max; i++) {
    const c = dv.getUint8(offset + i)
    if (c === 0) return s
    if (c >= 0x80) {
      const bytes = new Uint8Array(dv.buffer, dv.byteOffset + offset, max)
      const end = bytes.indexOf(0)
      return utf8.decode(bytes.subarray(0, end < 0 ? max : end))
    }
    s += String.fromCharCode(c)
  }
  return s
}

export function addrAt(dv: DataView, offset: number): InetAddr {
  // IPv4 (stored v4-mapped) without building a 16-byte view first.
  if (dv.getUint32(offset, true) === 0 && dv.getUint32(offset + 4, true) === 0 && dv.getUint32(offset + 8, false) === 0xffff) {
    return { family: 4, text: `${dv.getUint8(offset + 12)}.${dv.getUint8(offset + 13)}.${dv.getUint8(offset + 14)}.${dv.getUint8(offset + 15)}` }
  }
  return fromIpv6Bytes(new Uint8Array(dv.buffer, dv.byteOffset + offset, 16))
}

/** Kernel return addresses of a record's stack tail. */
export function stackAt(dv: DataView, offset: number, bytes: number): bigint[] {
  const n = Math.min(Math.floor(bytes / 8), MAX_STACK_DEPTH, Math.floor((dv.byteLength - offset) / 8))
  const out: bigint[] = []
  for (let i = 0; i < n; i++) out.push(dv.getBigUint64(offset + i * 8, true))
  return out
}

export interface FilterConfigValues {
  family: 0 | 4 | 6
  ports: number[]
  /** 16-byte addresses (IPv4 v4-mapped). */
  addrs: Uint8Array[]
  netns: number
  reasons: number[]
  rateLimit: number
  stackRate: number
  wantStack: boolean
  includeFailed: boolean
  hideNotSpecified: boolean
  notSpecifiedCode: number
  groupByDev?: boolean
  usePerfBuffer?: boolean
  wantOwner?: boolean
}

/** Writes the configuration into the object's .rodata before load. */
export function encodeFilterConfig(target: Uint8Array, v: FilterConfigValues): void {
  if (target.length < FILTER_CONFIG.size) throw new Error(`.rodata is ${target.length} bytes, expected ≥ ${FILTER_CONFIG.size}`)
  const f = FILTER_CONFIG.fields
  const dv = new DataView(target.buffer, target.byteOffset, FILTER_CONFIG.size)
  target.fill(0, 0, FILTER_CONFIG.size)
  dv.setUint8(f.family, v.family)
  dv.setUint8(f.nports, v.ports.length)
  dv.setUint8(f.naddrs, v.addrs.length)
  dv.setUint8(f.nreasons, v.reasons.length)
  dv.setUint32(f.netns, v.netns, true)
  v.ports.slice(0, MAX_FILTER_PORTS).forEach((p, i) => dv.setUint16(f.ports + 2 * i, p, true))
  v.addrs.slice(0, MAX_FILTER_ADDRS).forEach((a, i) => target.set(a, f.addrs + 16 * i))
  v.reasons.slice(0, MAX_FILTER_REASONS).forEach((r, i) => dv.setUint32(f.reasons + 4 * i, r, true))
  dv.setUint32(f.rate_limit, v.rateLimit, true)
  dv.setUint32(f.stack_rate, v.stackRate, true)
  dv.setUint32(f.not_specified, v.notSpecifiedCode, true)
  dv.setUint8(f.want_stack, v.wantStack ? 1 : 0)
  dv.setUint8(f.include_failed, v.includeFailed ? 1 : 0)
  dv.setUint8(f.hide_not_specified, v.hideNotSpecified ? 1 : 0)
  dv.setUint8(f.group_by_dev, v.groupByDev ? 1 : 0)
  dv.setUint8(f.use_perf_buffer, v.usePerfBuffer ? 1 : 0)
  dv.setUint8(f.want_owner, v.wantOwner ? 1 : 0)
}
