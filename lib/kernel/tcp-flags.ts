// TCP header flags (byte 13 of the header, RFC 9293), printed as bcc tcpdrop
// does: names in bit order joined by `|`.
const NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'] as const

export function tcpFlagNames(byte: number): string[] {
  return NAMES.filter((_, bit) => (byte & (1 << bit)) !== 0)
}
