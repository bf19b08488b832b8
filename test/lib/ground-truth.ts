// The kernel's own counters as ground truth (SPEC §7): deltas of /proc/net/snmp
// and /proc/net/netstat, summed over both test namespaces.
import { delta, type NetnsPair } from './netns.js'

export const RETRANSMIT_COUNTERS = ['TcpRetransSegs', 'TcpExtTCPRetransFail', 'TcpExtTCPLossProbes', 'TcpExtTCPSynRetrans'] as const

/** Snapshot now; the returned function gives the deltas since, per counter. */
export function counterDeltas(pair: NetnsPair, keys: readonly string[] = RETRANSMIT_COUNTERS): () => Map<string, number> {
  const before = [pair.counters(pair.sender), pair.counters(pair.receiver)] as const
  return () => {
    const after = [pair.counters(pair.sender), pair.counters(pair.receiver)] as const
    return new Map(keys.map((k) => [k, delta(before[0], after[0], k) + delta(before[1], after[1], k)]))
  }
}

/** Retransmitted segments handed to the device: what err == 0 records must equal. */
export function sentRetransmits(d: Map<string, number>): number {
  return (d.get('TcpRetransSegs') ?? 0) - (d.get('TcpExtTCPRetransFail') ?? 0)
}
