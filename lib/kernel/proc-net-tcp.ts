// Parser for /proc/net/tcp and /proc/net/tcp6 (net/ipv4/tcp_ipv4.c
// get_tcp4_sock/get_openreq4/get_timewait4_sock and their v6 twins): one entry
// per socket with its tuple, state, inode and the `%pK` socket pointer column.
// Addresses are printed as host-order u32 words of the network-order bytes,
// ports in host order. Lines it cannot read are skipped, never thrown on.
import type { Family } from '../events.js'
import { fromIpv6Bytes, formatIpv4 } from './inet-addr.js'
import { tcpStateName } from './tcp-states.js'

export interface ProcTcpEntry {
  /** Wire family: an IPv4 peer of a v4-mapped IPv6 socket is 4. */
  family: Family
  /** The table the line came from. */
  table: 'tcp' | 'tcp6'
  laddr: string
  lport: number
  raddr: string
  rport: number
  /** TCP state name without TCP_ (request sockets show as SYN_RECV). */
  state: string
  inode: number
  /** The pointer column as printed, lower case, 16 hex digits (raw, hashed or zeros). */
  pointer: string
}

/** What the pointer column holds (SPEC §2 pointer rule). */
export type PointerMode = 'raw' | 'hashed' | 'zero' | 'unknown'

/** One hex word of the table (host-order u32 of network-order bytes) → its 4 bytes. */
function wordBytes(hex: string): number[] {
  const v = parseInt(hex, 16)
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]
}

function address(hex: string): { family: Family; text: string } | null {
  if (/^[0-9A-Fa-f]{8}$/.test(hex)) return { family: 4, text: formatIpv4(wordBytes(hex)) }
  if (/^[0-9A-Fa-f]{32}$/.test(hex)) {
    const bytes: number[] = []
    for (let i = 0; i < 32; i += 8) bytes.push(...wordBytes(hex.slice(i, i + 8)))
    return fromIpv6Bytes(bytes)
  }
  return null
}

export function parseProcNetTcpLine(line: string, table: 'tcp' | 'tcp6'): ProcTcpEntry | null {
  const f = line.trim().split(/\s+/)
  // sl local rem st tx:rx tr:when retrnsmt uid timeout inode refcnt pointer …
  if (f.length < 12 || !/^\d+:$/.test(f[0] ?? '')) return null
  const [la, lp] = (f[1] ?? '').split(':')
  const [ra, rp] = (f[2] ?? '').split(':')
  const local = address(la ?? '')
  const remote = address(ra ?? '')
  const pointer = (f[11] ?? '').toLowerCase()
  if (!local || !remote || !lp || !rp || !/^[0-9a-f]{1,16}$/.test(pointer)) return null
  return {
    // A socket's wire family follows its peer (:: listeners have no v4-mapped peer).
    family: remote.text === '::' ? local.family : remote.family,
    table,
    laddr: local.text,
    lport: parseInt(lp, 16),
    raddr: remote.text,
    rport: parseInt(rp, 16),
    state: tcpStateName(parseInt(f[3] ?? '', 16)),
    inode: Number(f[9]),
    pointer: pointer.padStart(16, '0'),
  }
}

export function parseProcNetTcp(text: string, table: 'tcp' | 'tcp6'): ProcTcpEntry[] {
  const out: ProcTcpEntry[] = []
  for (const line of text.split('\n')) {
    const e = parseProcNetTcpLine(line, table)
    if (e) out.push(e)
  }
  return out
}

/** Kernel pointers on x86_64 live in the upper half; `%pK` hashes are 32-bit values. */
export function pointerMode(entries: readonly ProcTcpEntry[]): PointerMode {
  if (entries.length === 0) return 'unknown'
  if (entries.every((e) => /^0+$/.test(e.pointer))) return 'zero'
  if (entries.every((e) => e.pointer.startsWith('ffff'))) return 'raw'
  return 'hashed'
}

/** A raw pointer as printed by a kprobe `:x64` fetch-arg (`0xffff…`) → the table's form. */
export function normalizePointer(text: string): string {
  return text.replace(/^0x/i, '').toLowerCase().padStart(16, '0')
}
