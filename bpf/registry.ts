// The bpf backend's hooks by event kind: the compiled object that serves each.
// A new kind served by bpf is one line here (and its object definition).
import type { EventKind } from '../lib/events.js'
import { dropwatchObject } from './objects/dropwatch.js'
import type { BpfObjectDef } from './objects/object-def.js'
import { tcpdropObject } from './objects/tcpdrop.js'
import { tcpretransObject } from './objects/tcpretrans.js'

export const BPF_HOOKS: Partial<Record<EventKind, BpfObjectDef>> = {
  'tcp-retransmit': tcpretransObject,
  'tcp-synack-retransmit': tcpretransObject,
  'tcp-loss-probe': tcpretransObject,
  'tcp-drop': tcpdropObject,
  'skb-drop-count': dropwatchObject,
}
