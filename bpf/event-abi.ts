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
export const COUNTER = { lost: 0, hiddenNotSpecified: 1, suppressed: 2, stackNotSampled: 3, covered: 4, max: 5 } as const

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
    segs: 84,
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

/** struct run_config: what every object reads (`cfg` in its .rodata) */
export const RUN_CONFIG = {
  size: 224,
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
    use_perf_buffer: 220,
  },
} as const

/** struct tcpdrop_config (`tool_cfg` of tcpdrop.bpf.o) */
export const TCPDROP_CONFIG = {
  size: 12,
  fields: { stack_rate: 0, not_specified: 4, want_stack: 8, hide_not_specified: 9, want_owner: 10 },
} as const

/** struct tcpretrans_config (`tool_cfg` of tcpretrans.bpf.o) */
export const TCPRETRANS_CONFIG = { size: 4, fields: { want_stack: 0, include_failed: 1 } } as const

/** struct dropwatch_config (`tool_cfg` of dropwatch.bpf.o) */
export const DROPWATCH_CONFIG = { size: 4, fields: { group_by_dev: 0 } } as const

/** Where `cfg` and `tool_cfg` sit in an object's .rodata, and its size. */
export interface RodataLayout {
  size: number
  run: number
  tool: number
}

/** Per object: the compiler placed `tool_cfg` right after `cfg` (both 4-aligned). */
export const RODATA = {
  tcpdrop: { size: 236, run: 0, tool: 224 },
  tcpretrans: { size: 228, run: 0, tool: 224 },
  dropwatch: { size: 228, run: 0, tool: 224 },
} as const satisfies Record<string, RodataLayout>

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

export interface RunConfigValues {
  family: 0 | 4 | 6
  ports: number[]
  /** 16-byte addresses (IPv4 v4-mapped). */
  addrs: Uint8Array[]
  netns: number
  reasons: number[]
  rateLimit: number
  usePerfBuffer: boolean
}

export interface TcpdropConfigValues {
  wantStack: boolean
  stackRate: number
  hideNotSpecified: boolean
  notSpecifiedCode: number
  wantOwner: boolean
}

export interface TcpretransConfigValues {
  wantStack: boolean
  includeFailed: boolean
}

export interface DropwatchConfigValues {
  groupByDev: boolean
}

/** Writes an object's whole .rodata before load: zeroes it (padding included),
 *  then the common part, then the object's own through writeTool. */
export function encodeRodata(
  target: Uint8Array,
  layout: RodataLayout,
  run: RunConfigValues,
  writeTool: (dv: DataView, offset: number) => void,
): void {
  if (target.length !== layout.size) throw new Error(`.rodata is ${target.length} bytes, expected ${layout.size}`)
  target.fill(0)
  const dv = new DataView(target.buffer, target.byteOffset, target.length)
  encodeRunConfig(dv, layout.run, run)
  writeTool(dv, layout.tool)
}

export function encodeRunConfig(dv: DataView, at: number, v: RunConfigValues): void {
  const f = RUN_CONFIG.fields
  const ports = v.ports.slice(0, MAX_FILTER_PORTS)
  const addrs = v.addrs.slice(0, MAX_FILTER_ADDRS)
  const reasons = v.reasons.slice(0, MAX_FILTER_REASONS)
  dv.setUint8(at + f.family, v.family)
  dv.setUint8(at + f.nports, ports.length)
  dv.setUint8(at + f.naddrs, addrs.length)
  dv.setUint8(at + f.nreasons, reasons.length)
  dv.setUint32(at + f.netns, v.netns, true)
  ports.forEach((p, i) => dv.setUint16(at + f.ports + 2 * i, p, true))
  addrs.forEach((a, i) => new Uint8Array(dv.buffer, dv.byteOffset + at + f.addrs + 16 * i, 16).set(a))
  reasons.forEach((r, i) => dv.setUint32(at + f.reasons + 4 * i, r, true))
  dv.setUint32(at + f.rate_limit, v.rateLimit, true)
  dv.setUint8(at + f.use_perf_buffer, v.usePerfBuffer ? 1 : 0)
}

export function encodeTcpdropConfig(dv: DataView, at: number, v: TcpdropConfigValues): void {
  const f = TCPDROP_CONFIG.fields
  dv.setUint32(at + f.stack_rate, v.stackRate, true)
  dv.setUint32(at + f.not_specified, v.notSpecifiedCode, true)
  dv.setUint8(at + f.want_stack, v.wantStack ? 1 : 0)
  dv.setUint8(at + f.hide_not_specified, v.hideNotSpecified ? 1 : 0)
  dv.setUint8(at + f.want_owner, v.wantOwner ? 1 : 0)
}

export function encodeTcpretransConfig(dv: DataView, at: number, v: TcpretransConfigValues): void {
  const f = TCPRETRANS_CONFIG.fields
  dv.setUint8(at + f.want_stack, v.wantStack ? 1 : 0)
  dv.setUint8(at + f.include_failed, v.includeFailed ? 1 : 0)
}

export function encodeDropwatchConfig(dv: DataView, at: number, v: DropwatchConfigValues): void {
  dv.setUint8(at + DROPWATCH_CONFIG.fields.group_by_dev, v.groupByDev ? 1 : 0)
}
