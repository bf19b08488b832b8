// Fetch-args that read a socket's IPv4 tuple, family and state from the
// struct sock_common a kprobe argument points to (x86_64 registers). The
// offsets have been stable since 4.6; where the kernel has BTF they are
// checked, and a mismatch makes the kprobe hooks unusable rather than wrong.
// BTF also gives the netns inode (skc_net → net.ns.inum), which the kernel
// filter can then match for --netns.
import { existsSync } from 'node:fs'
import { Btf, VMLINUX_BTF, type StructMembers } from '../../lib/kernel/btf.js'

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

export interface SockCommonLayout {
  /** Where the offsets were checked ('btf'), or 'assumed' without BTF. */
  source: 'btf' | 'assumed'
  /** Offsets of skc_net and net.ns.inum when BTF has them (network namespace of the socket). */
  netns: { skcNet: number; inum: number } | null
}

export type LayoutResult = { ok: true; layout: SockCommonLayout } | { ok: false; reason: string }

/** Checks the expected offsets against a BTF reader (or assumes them without BTF). */
export function checkSockCommonLayout(btf: StructMembers | null): LayoutResult {
  if (btf === null) return { ok: true, layout: { source: 'assumed', netns: null } }
  const wrong: string[] = []
  for (const e of EXPECTED) {
    const m = btf.member('sock_common', e.member)
    if (!m) wrong.push(`${e.member} missing`)
    else if (m.offset !== e.offset || m.size !== e.size) wrong.push(`${e.member} at +${m.offset} size ${m.size ?? '?'}, expected +${e.offset} size ${e.size}`)
  }
  if (wrong.length > 0) return { ok: false, reason: `struct sock_common differs on this kernel (BTF): ${wrong.join(', ')}` }
  const net = btf.member('sock_common', 'skc_net')
  const ns = btf.member('net', 'ns')
  const inum = btf.member('ns_common', 'inum')
  const netns = net && net.size === 8 && ns && inum && inum.size === 4 ? { skcNet: net.offset, inum: ns.offset + inum.offset } : null
  return { ok: true, layout: { source: 'btf', netns } }
}

let cached: LayoutResult | null = null

/** The layout for the running kernel (BTF read once per process). */
export function runningSockCommonLayout(): LayoutResult {
  if (cached) return cached
  let btf: Btf | null = null
  if (existsSync(VMLINUX_BTF)) {
    try {
      btf = Btf.load()
    } catch (err) {
      cached = { ok: false, reason: `cannot read ${VMLINUX_BTF} to check struct sock_common: ${(err as Error).message}` }
      return cached
    }
  }
  cached = checkSockCommonLayout(btf)
  return cached
}

/** `name=+off(%reg):type` args for the sock_common at `reg` (plus its pointer and netns). */
export function sockCommonArgs(reg: ArgRegister, layout: SockCommonLayout, pointerName = 'sk'): string[] {
  const args = [`${pointerName}=${reg}:x64`]
  for (const e of EXPECTED) args.push(`${e.arg}=+${e.offset}(${reg}):${e.type}`)
  if (layout.netns) args.push(`netns=+${layout.netns.inum}(+${layout.netns.skcNet}(${reg})):u32`)
  return args
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
