// TCP states as printed (SPEC §3: without the TCP_ prefix). Numbers follow
// include/net/tcp_states.h, an ABI unchanged since 2.6 (NEW_SYN_RECV added in 4.1,
// BOUND_INACTIVE in 6.10); used where a hook gives the number, e.g. /proc/net/tcp
// and kprobe fetch-args.
const NAMES = [
  null,
  'ESTABLISHED',
  'SYN_SENT',
  'SYN_RECV',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'TIME_WAIT',
  'CLOSE',
  'CLOSE_WAIT',
  'LAST_ACK',
  'LISTEN',
  'CLOSING',
  'NEW_SYN_RECV',
  'BOUND_INACTIVE',
] as const

export function tcpStateName(state: number): string {
  return NAMES[state] ?? String(state)
}

/** `TCP_ESTABLISHED` → `ESTABLISHED`; a bare number goes through the table. */
export function normalizeTcpState(text: string): string {
  if (/^\d+$/.test(text)) return tcpStateName(Number(text))
  return text.replace(/^TCP_/, '')
}
