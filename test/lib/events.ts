// Events for unit tests, one builder per kind: a plausible event, and the
// fields a test cares about given over it.
import type { RetransmitEvent, SkbDropCountEvent, TcpDropEvent } from '../../lib/events.js'

export const retransmitEvent = (over: Partial<RetransmitEvent> = {}): RetransmitEvent => ({
  kind: 'tcp-retransmit',
  tsNs: 0n,
  pid: 0,
  comm: null,
  family: 4,
  laddr: '10.0.0.1',
  lport: 443,
  raddr: '10.0.0.2',
  rport: 50000,
  state: 'ESTABLISHED',
  netns: null,
  seq: null,
  err: null,
  segs: null,
  stack: null,
  sockId: null,
  ...over,
})

export const tcpDropEvent = (over: Partial<TcpDropEvent> = {}): TcpDropEvent => ({
  kind: 'tcp-drop',
  tsNs: 0n,
  pid: 0,
  comm: null,
  family: 4,
  saddr: '192.0.2.7',
  sport: 40000,
  daddr: '192.0.2.8',
  dport: 22,
  state: null,
  tcpflags: ['SYN'],
  reason: 'NO_SOCKET',
  reasonCode: 2,
  location: 'tcp_v4_rcv+0x1a0',
  netns: null,
  ifindex: null,
  dev: null,
  stack: null,
  owner: null,
  skbId: null,
  ...over,
})

export const skbDropCountEvent = (over: Partial<SkbDropCountEvent> = {}): SkbDropCountEvent => ({
  kind: 'skb-drop-count',
  location: 'tcp_v4_rcv+0x1a0',
  address: null,
  reason: 'NO_SOCKET',
  reasonCode: 2,
  protocol: 0x800,
  family: 4,
  netns: null,
  ifindex: null,
  dev: null,
  count: 1,
  ...over,
})
