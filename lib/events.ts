// The kernel-neutral event model. Every backend produces exactly these shapes;
// a field a backend cannot fill is null, so formatters, filters and tests treat
// every backend alike.

export type Family = 4 | 6

/** What a tool asks a backend for (one run may need several kinds): the
 *  kinds are the keys of KindOptions, each with the options it carries. */
export type EventKind = keyof KindOptions

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
  /** Segments the skb carries under TSO/GSO (what TcpRetransSegs adds for it); null when the hook cannot read it. */
  segs: number | null
  /** Kernel stack frames, innermost first, tracing frames removed; null when
   *  not recorded; 'not-sampled' over the kind's stack rate. */
  stack: string[] | null | 'not-sampled'
  /** Identity of the socket for joins (hashed or raw pointer text); null when unknown. */
  sockId: string | null
}

/** A TCP segment the kernel dropped (tcpdrop). SADDR/DADDR are the segment's own
 *  source and destination (for an inbound segment the source is the peer). */
export interface TcpDropEvent {
  kind: 'tcp-drop'
  tsNs: bigint
  pid: number
  comm: string | null
  family: Family
  saddr: string
  sport: number
  daddr: string
  dport: number
  /** TCP state of the socket at drop time without TCP_; null when there is no socket. */
  state: string | null
  /** TCP header flags (`SYN`, `ACK`, …); null when the hook cannot read them. */
  tcpflags: string[] | null
  /** Drop-reason name without SKB_DROP_REASON_ (or the number as text); null without reasons. */
  reason: string | null
  reasonCode: number | null
  /** `sym+0xoff` of the kfree_skb caller. */
  location: string | null
  netns: number | null
  ifindex: number | null
  dev: string | null
  /** null: no stack requested or none recorded; 'not-sampled': over --stack-rate. */
  stack: string[] | null | 'not-sampled'
  owner: { pid: number; comm: string } | null
  /** Identity of the skb for de-duplication across hooks. */
  skbId: string | null
}

/** Drops counted at one (location, reason, …) key (dropwatch). A backend that
 *  aggregates in the kernel emits the increments since its last sample; one that
 *  sees every drop emits count = 1 per drop. */
export interface SkbDropCountEvent {
  kind: 'skb-drop-count'
  /** `sym+0xoff`, or the raw address text when it cannot be symbolized. */
  location: string
  /** Raw kernel address (hex text) when known. */
  address: string | null
  reason: string | null
  reasonCode: number | null
  /** skb->protocol (ETH_P_*), when known. */
  protocol: number | null
  family: Family | null
  netns: number | null
  ifindex: number | null
  dev: string | null
  count: number
}

export type Event = RetransmitEvent | TcpDropEvent | SkbDropCountEvent

// ---- What a tool asks of a backend, per kind -------------------------------

/** Event fields that not every hook can fill. A tool lists the ones its run
 *  needs; a hook that cannot fill one cannot serve the kind (lib/plan-rules.ts). */
export type OptionalField = 'seq' | 'err' | 'stack' | 'netns' | 'comm' | 'state' | 'dev'

/** Kernel stacks for a kind: at most `depth` frames, taken for at most `rate`
 *  events per second (0: no limit); later events are marked not sampled. */
export interface StackRequest {
  depth: number
  rate: number
}

/** Frames shown when a tool has no --stack-depth of its own (bcc's default too). */
export const DEFAULT_STACK_DEPTH = 16

/** Each kind and its own options: what changes what the hook does in the kernel. */
export interface KindOptions {
  /** Data/SYN/FIN retransmits (tcp:tcp_retransmit_skb); failed attempts too with includeFailed. */
  'tcp-retransmit': { stack: StackRequest | null; includeFailed: boolean }
  /** SYN-ACK retransmits of a listener (tcp:tcp_retransmit_synack). */
  'tcp-synack-retransmit': { stack: StackRequest | null }
  /** Tail loss probe attempts (tcp_send_loss_probe). */
  'tcp-loss-probe': { stack: StackRequest | null }
  /** TCP segments freed as dropped (skb:kfree_skb, tcp_drop()); the socket's owner, NOT_SPECIFIED hidden. */
  'tcp-drop': { stack: StackRequest | null; owner: boolean; hideNotSpecified: boolean }
  /** Per-location drop counts of any protocol (dropwatch), the device in the key with groupByDev. */
  'skb-drop-count': { groupByDev: boolean }
}

/** One kind a run needs, with that kind's options. */
export type KindRequest<K extends EventKind = EventKind> = K extends EventKind
  ? {
      kind: K
      /** A required kind that cannot be served makes the backend ineligible. */
      required: boolean
      /** Optional fields this run prints, each with the option that asks for it
       *  (`{ seq: '--seq' }`); a hook that cannot fill one cannot serve the kind. */
      fields: Partial<Record<OptionalField, string>>
      options: KindOptions[K]
    }
  : never

/** Where the events go. Backends call event() for each record and batchEnd() after
 *  each poll batch, which is when output is flushed (SPEC §3: at most every 100 ms). */
export interface EventSink {
  event(e: Event): void
  batchEnd(): void
  /** False while the output is backed up (a slow reader of stdout): backends
   *  then leave events in the kernel, whose buffers count what overflows. */
  ready(): boolean
}
