// The kernel-neutral event model. Every backend produces exactly these shapes;
// a field a backend cannot fill is null, so formatters, filters and tests treat
// every backend alike.

export type Family = 4 | 6

/** What a tool asks a backend for. One run may need several kinds. */
export type EventKind =
  | 'tcp-retransmit' // data/SYN/FIN retransmits (tcp:tcp_retransmit_skb)
  | 'tcp-synack-retransmit' // SYN-ACK retransmits of a listener (tcp:tcp_retransmit_synack)
  | 'tcp-loss-probe' // tail loss probe attempts (tcp_send_loss_probe)
  | 'tcp-drop' // TCP segments freed as dropped (skb:kfree_skb and friends)
  | 'skb-drop-count' // per-location drop counts of any protocol (dropwatch)

export const ALL_EVENT_KINDS: readonly EventKind[] = [
  'tcp-retransmit',
  'tcp-synack-retransmit',
  'tcp-loss-probe',
  'tcp-drop',
  'skb-drop-count',
]

/** One TCP flow endpoint pair as the local socket sees it. */
export interface Flow {
  family: Family
  laddr: string
  lport: number
  raddr: string
  rport: number
}

export interface RetransmitEvent extends Flow {
  kind: 'tcp-retransmit' | 'tcp-synack-retransmit' | 'tcp-loss-probe'
  /** CLOCK_MONOTONIC nanoseconds. */
  tsNs: bigint
  pid: number
  comm: string | null
  /** TCP state without the TCP_ prefix; null when the hook cannot tell. */
  state: string | null
  netns: number | null
  seq: number | null
  /** Result of the transmit attempt (6.17+ kernels); null when the hook has no such field. */
  err: number | null
  /** Kernel stack frames, innermost first, tracing frames removed; null when not recorded. */
  stack: string[] | null
  /** Identity of the socket for joins (hashed or raw pointer text); null when unknown. */
  sockId: string | null
}

export type Event = RetransmitEvent

/** Where the events go. Backends call event() for each record and batchEnd() after
 *  each poll batch, which is when output is flushed (SPEC §3: at most every 100 ms). */
export interface EventSink {
  event(e: Event): void
  batchEnd(): void
}
