// IP address parsing and printing. Addresses are compared as canonical text:
// dotted quad for IPv4 (including IPv4 flows on v4-mapped IPv6 sockets, SPEC §3
// "wire family") and RFC 5952 compressed form for IPv6.
import { isIPv4, isIPv6 } from 'node:net'
import type { Family } from '../events.js'

export interface InetAddr {
  family: Family
  text: string
}

/** Parses user or kernel text into the wire family and canonical text; null if not an address. */
export function parseInetAddr(input: string): InetAddr | null {
  const s = input.trim()
  if (isIPv4(s)) return { family: 4, text: formatIpv4(s.split('.').map(Number)) }
  if (!isIPv6(s)) return null
  const bytes = ipv6Bytes(s)
  if (bytes === null) return null
  return fromIpv6Bytes(bytes)
}

/** Wire family and text of a 16-byte IPv6 address (v4-mapped → IPv4). */
export function fromIpv6Bytes(bytes: Uint8Array | number[]): InetAddr {
  if (isV4Mapped(bytes)) return { family: 4, text: formatIpv4(Array.from(bytes.slice(12, 16))) }
  return { family: 6, text: formatIpv6(bytes) }
}

export function isV4Mapped(bytes: Uint8Array | number[]): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false
  return bytes[10] === 0xff && bytes[11] === 0xff
}

export function formatIpv4(bytes: ArrayLike<number>): string {
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`
}

/** RFC 5952: lower case, no leading zeros, the longest run (≥ 2) of zero groups as `::`. */
export function formatIpv6(bytes: ArrayLike<number>): string {
  const groups: number[] = []
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0))
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (g: number[]) => g.map((x) => x.toString(16)).join(':')
  if (bestLen < 2) return hex(groups)
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`
}

/** 16 bytes of a textual IPv6 address (also with an embedded dotted quad); null if invalid. */
export function ipv6Bytes(text: string): Uint8Array | null {
  let s = text
  const lastColon = s.lastIndexOf(':')
  if (s.includes('.', lastColon)) {
    // An embedded dotted quad (::ffff:1.2.3.4) becomes its two hex groups.
    const v4 = s.slice(lastColon + 1)
    if (!isIPv4(v4)) return null
    const p = v4.split('.').map(Number)
    const hi = (((p[0] ?? 0) << 8) | (p[1] ?? 0)).toString(16)
    const lo = (((p[2] ?? 0) << 8) | (p[3] ?? 0)).toString(16)
    s = `${s.slice(0, lastColon + 1)}${hi}:${lo}`
  }
  const halves = s.split('::')
  if (halves.length > 2) return null
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)))
  const head = parse(halves[0] ?? '')
  const rest = halves.length === 2 ? parse(halves[1] ?? '') : []
  const known = head.length + rest.length
  if (known > 8 || (halves.length === 1 && known !== 8) || (halves.length === 2 && known > 7)) return null
  const groups = [...head, ...new Array<number>(8 - known).fill(0), ...rest]
  if (groups.some((g) => Number.isNaN(g))) return null
  const out = new Uint8Array(16)
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8
    out[2 * i + 1] = g & 0xff
  })
  return out
}
