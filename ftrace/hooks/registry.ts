// The ftrace backend's hooks by event kind: the tracepoint it prefers and the
// kprobe it can fall back to (or the kprobe alone, for what no tracepoint
// sees). A new hook is its file plus one line here.
import type { EventKind } from '../../lib/events.js'
import type { TracepointHook } from './hook.js'
import type { KprobeHook } from './kprobe-hook.js'
import { skbDropCount } from './skb-drop-count.js'
import { tcpDrop } from './tcp-drop.js'
import { tcpDropKprobe } from './tcp-drop-kprobe.js'
import { tcpRetransmitSkb, tcpRetransmitSynack } from './tcp-retransmit.js'
import { tcpLossProbeKprobe, tcpRetransmitKprobe, tcpRtxSynackKprobe } from './tcp-retransmit-kprobe.js'

export type FtraceHooks = { [K in EventKind]?: { tracepoint?: TracepointHook<K>; kprobe?: KprobeHook<K> } }

export const FTRACE_HOOKS: FtraceHooks = {
  'tcp-retransmit': { tracepoint: tcpRetransmitSkb, kprobe: tcpRetransmitKprobe },
  'tcp-synack-retransmit': { tracepoint: tcpRetransmitSynack, kprobe: tcpRtxSynackKprobe },
  'tcp-loss-probe': { kprobe: tcpLossProbeKprobe },
  'tcp-drop': { tracepoint: tcpDrop, kprobe: tcpDropKprobe },
  'skb-drop-count': { tracepoint: skbDropCount },
}
