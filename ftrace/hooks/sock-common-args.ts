// Fetch-args that read a socket's tuple (IPv4, and IPv6 from skc_v6_daddr /
// skc_v6_rcv_saddr), family and state from the struct sock_common a kprobe
// argument points to (x86_64 registers). The offsets have been stable since
// 4.6 (the IPv6 ones since 3.13); where the kernel has BTF they are checked,
// and a mismatch makes the kprobe hooks unusable rather than wrong.
// BTF also gives the netns inode (skc_net → net.ns.inum), which the kernel
// filter can then match for --netns.
import type { Flow } from '../../lib/events.js'
import type { StructMembers } from '../../lib/kernel/btf.js'
import { fromIpv6Bytes, type InetAddr } from '../../lib/kernel/inet-addr.js'
import { runningBtf } from './running-btf.js'

/** x86_64 argument registers (first and second). */
export type ArgRegister = '%di' | '%si'

const EXPECTED = [
  { member: 'skc_daddr', arg: 'daddr', offset: 0, size: 4, type: 'u32' },
  { member: 'skc_rcv_saddr', arg: 'saddr', offset: 4, size: 4, type: 'u32' },
  { member: 'skc_dport', arg: 'dport', offset: 12, size: 2, type: 'u16' }, // network order
  { member: 'skc_num', arg: 'lport', offset: 14, size: 2, type: 'u16' }, // host order
  { member: 'skc_family', arg: 'family', offset: 16, size: 2, type: 'u16' },
  { member: 'skc_state', arg: 'state', offset: 18, size: 1, type: 'u8' },
] as const

/** The IPv6 addresses, read as four u32 words each (fetch-args have no 16-byte type). */
const EXPECTED_V6 = [
  { member: 'skc_v6_daddr', arg: 'daddr6_', offset: 56 },
  { member: 'skc_v6_rcv_saddr', arg: 'saddr6_', offset: 72 },
] as const

export interface SockCommonLayout {
  /** Where the offsets were checked ('btf'), or 'assumed' without BTF. */
  source: 'btf' | 'assumed'
  /** Offsets of skc_net and net.ns.inum when BTF has them (network namespace of the socket). */
  netns: { skcNet: number; inum: number } | null
  /** The kernel has IPv6 sockets (skc_v6_* in sock_common): their addresses are fetched too. */
  v6: boolean
}

export type LayoutResult = { ok: true; layout: SockCommonLayout } | { ok: false; reason: string }

/** Checks the expected offsets against a BTF reader (or assumes them without BTF). */
export function checkSockCommonLayout(btf: StructMembers | null): LayoutResult {
  if (btf === null) return { ok: true, layout: { source: 'assumed', netns: null, v6: true } }
  const wrong: string[] = []
  const check = (e: { member: string; offset: number }, size: number) => {
    const m = btf.member('sock_common', e.member)
    if (!m) wrong.push(`${e.member} missing`)
    else if (m.offset !== e.offset || m.size !== size) wrong.push(`${e.member} at +${m.offset} size ${m.size ?? '?'}, expected +${e.offset} size ${size}`)
  }
  for (const e of EXPECTED) check(e, e.size)
  // Without CONFIG_IPV6 sock_common has no skc_v6_* (and there are no IPv6 sockets).
  const v6 = EXPECTED_V6.some((e) => btf.member('sock_common', e.member) !== null)
  if (v6) for (const e of EXPECTED_V6) check(e, 16)
  if (wrong.length > 0) return { ok: false, reason: `struct sock_common differs on this kernel (BTF): ${wrong.join(', ')}` }
  const net = btf.member('sock_common', 'skc_net')
  const ns = btf.member('net', 'ns')
  const inum = btf.member('ns_common', 'inum')
  const netns = net && net.size === 8 && ns && inum && inum.size === 4 ? { skcNet: net.offset, inum: ns.offset + inum.offset } : null
  return { ok: true, layout: { source: 'btf', netns, v6 } }
}

/** The layout for the running kernel. */
export function runningSockCommonLayout(): LayoutResult {
  const r = runningBtf()
  return 'error' in r ? { ok: false, reason: r.error } : checkSockCommonLayout(r.btf)
}

/** `name=+off(%reg):type` args for the sock_common at `reg` (plus its pointer and netns). */
export function sockCommonArgs(reg: ArgRegister, layout: SockCommonLayout, pointerName = 'sk'): string[] {
  const args = [`${pointerName}=${reg}:x64`]
  for (const e of EXPECTED) args.push(`${e.arg}=+${e.offset}(${reg}):${e.type}`)
  if (layout.netns) args.push(`netns=+${layout.netns.inum}(+${layout.netns.skcNet}(${reg})):u32`)
  if (layout.v6) for (const e of EXPECTED_V6) for (let i = 0; i < 4; i++) args.push(`${e.arg}${i}=+${e.offset + 4 * i}(${reg}):x32`)
  return args
}

export interface SockFlow extends Flow {
  state: number
  /** false: an IPv6 socket whose addresses the line does not carry (printed `-`). */
  resolved: boolean
}

/** The socket's flow as its fetch-args give it (null when the line lacks them).
 *  IPv4 flows on v4-mapped IPv6 sockets are IPv4 on the wire (family 4). */
export function sockFlow(kv: ReadonlyMap<string, string>): SockFlow | null {
  const num = (k: string) => {
    const v = kv.get(k)
    return v === undefined ? NaN : Number(v)
  }
  const family = num('family')
  const lport = num('lport')
  const rport = portFromNetU16(num('dport'))
  const state = num('state')
  if (!Number.isFinite(lport) || !Number.isFinite(rport)) return null
  const v4 = { family: 4 as const, laddr: ipv4FromU32(num('saddr')), lport, raddr: ipv4FromU32(num('daddr')), rport, state, resolved: true }
  if (family === AF_INET) return v4
  if (family !== AF_INET6) return null
  const local = ipv6FromWords(kv, 'saddr6_')
  const remote = ipv6FromWords(kv, 'daddr6_')
  if (local && remote) return { family: local.family, laddr: local.text, lport, raddr: remote.text, rport, state, resolved: true }
  // Without the IPv6 words (a kernel without IPv6 in BTF, or an older capture):
  // an IPv4 peer on an IPv6 socket (v4-mapped) keeps its IPv4 tuple in
  // sock_common; native IPv6 sockets hold 0 or LOOPBACK4_IPV6 (127.0.0.6)
  // there (include/net/ipv6.h), so those say "unknown".
  const daddr = num('daddr')
  if (daddr !== 0 && daddr !== LOOPBACK4_IPV6) return v4
  return { family: 6, laddr: '-', lport, raddr: '-', rport, state, resolved: false }
}

/** Four `x32` words read little endian from network-order bytes → the address. */
function ipv6FromWords(kv: ReadonlyMap<string, string>, prefix: string): InetAddr | null {
  const bytes = new Uint8Array(16)
  for (let i = 0; i < 4; i++) {
    const w = Number(kv.get(`${prefix}${i}`))
    if (!Number.isInteger(w)) return null
    bytes.set([w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff], 4 * i)
  }
  return fromIpv6Bytes(bytes)
}

/** A u32 read from memory holding network-order bytes (x86_64 is little endian) → dotted quad. */
export function ipv4FromU32(value: number): string {
  return `${value & 0xff}.${(value >>> 8) & 0xff}.${(value >>> 16) & 0xff}.${(value >>> 24) & 0xff}`
}

/** A network-order u16 read as little endian → the port number. */
export function portFromNetU16(value: number): number {
  return ((value & 0xff) << 8) | ((value >>> 8) & 0xff)
}

export function netU16FromPort(port: number): number {
  return portFromNetU16(port)
}

export const AF_INET = 2
export const AF_INET6 = 10
/** 127.0.0.6 as sock_common holds it (network order read as little-endian u32). */
export const LOOPBACK4_IPV6 = 0x0600007f
