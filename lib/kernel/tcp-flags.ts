// TCP header flags (byte 13 of the header, RFC 9293), printed as bcc tcpdrop
// does: names in bit order joined by `|`.
const NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'] as const

// One frozen list per flag byte, shared by every event with those flags.
const BY_BYTE: ReadonlyArray<readonly string[]> = Array.from({ length: 256 }, (_, byte) =>
  Object.freeze(NAMES.filter((_, bit) => (byte & (1 << bit)) !== 0)),
)

export function tcpFlagNames(byte: number): string[] {
  return (BY_BYTE[byte & 0xff] ?? []) as string[]
}
