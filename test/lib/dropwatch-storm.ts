// Shared by the dropwatch tests: a UDP storm dropped by the receiver's input
// chain *policy* (its own code location in nft_do_chain, apart from the `drop`
// rules other tests use), counted by counter-only rules as ground truth, and
// the helpers that read drops out of dropwatch's JSON records.
import type { NetnsPair } from './netns.js'
import { nftCounter, sleep } from './netns.js'
import type { JsonRecord } from './records.js'
import { udpStorm } from './udp-storm.js'

export const STORM_PORT = 9999

export const STORM_RULES = `table inet ndw {
  chain input {
    type filter hook input priority 0; policy drop;
    meta l4proto != udp accept
    udp dport != ${STORM_PORT} accept
    meta nfproto ipv4 counter comment "storm4"
    meta nfproto ipv6 counter comment "storm6"
  }
}`

export interface Drop {
  location: string
  address: string | null
  reason: string | null
  dev?: string | null
  count: number
}

/** Neighbours resolved before any storm (one datagram to an accepted port), so
 *  no storm datagram waits in, or overflows, the ARP/ND queue. */
export async function primeNeighbours(pair: NetnsPair): Promise<void> {
  udpStorm(pair, pair.v4.receiver, STORM_PORT - 1, 1, 1, 0)
  udpStorm(pair, pair.v6.receiver, STORM_PORT - 1, 1, 1, 0)
  await sleep(300)
}

export function stormCounters(pair: NetnsPair): { v4: number; v6: number } {
  return { v4: nftCounter(pair, pair.receiver, 'storm4'), v6: nftCounter(pair, pair.receiver, 'storm6') }
}

/** Count per location of the rows `keep` accepts (all by default), summed over records of a type. */
export function dropsByLocation(recs: JsonRecord[], type: string, keep: (d: Drop) => boolean = () => true): Map<string, number> {
  const m = new Map<string, number>()
  for (const r of recs.filter((x) => x.type === type)) {
    for (const d of r.drops as Drop[]) if (keep(d)) m.set(d.location, (m.get(d.location) ?? 0) + d.count)
  }
  return m
}

/** Count per location of NETFILTER_DROP rows, summed over records of a type. */
export function netfilterByLocation(recs: JsonRecord[], type: string): Map<string, number> {
  return dropsByLocation(recs, type, (d) => d.reason === 'NETFILTER_DROP')
}

/** The storm's location: the NETFILTER_DROP location with the most drops. */
export function learnLocation(m: Map<string, number>): [string, number] {
  return [...m].sort((a, b) => b[1] - a[1])[0] ?? ['', 0]
}
