// The kernel's counters of dropped TCP segments (nstat names), for tcpdrop's
// summary. Not an identity with the records: one drop can bump two of them
// (TCPRcvQDrop and TCPZeroWindowDrop count apart from InErrors for some paths)
// or none (a netfilter drop, a SYN to a closed port: NO_SOCKET counts nowhere
// here), and some count a segment the stack then goes on to use no more of.

/** Counters that count TCP segments the kernel dropped, most specific first.
 *  Those the running kernel lacks are simply absent from its deltas. */
export const TCP_DROP_COUNTERS = [
  'TcpExtTCPBacklogDrop',
  'TcpExtTCPRcvQDrop',
  'TcpExtTCPOFODrop',
  'TcpExtTCPZeroWindowDrop',
  'TcpExtListenDrops',
  'TcpExtListenOverflows',
  'TcpExtTCPReqQFullDrop',
  'TcpExtTCPMinTTLDrop',
  'TcpExtPFMemallocDrop',
  'TcpExtTCPDeferAcceptDrop',
  'TcpExtPAWSEstab',
  'TcpExtRcvPruned',
  'TcpExtOfoPruned',
  'TcpExtTCPMD5NotFound',
  'TcpExtTCPMD5Unexpected',
  'TcpExtTCPMD5Failure',
  'TcpExtTCPAORequired',
  'TcpExtTCPAOBad',
  'TcpExtTCPAOKeyNotFound',
  'TcpInErrors',
  'TcpInCsumErrors',
] as const

/** The data-path counters: drops that went through tcp_drop() before 5.18
 *  (queueing to the receive or out-of-order queue, PAWS, pruning), which a
 *  backend that sees only skb:kfree_skb cannot see on such kernels. */
export const TCP_DATA_PATH_COUNTERS: readonly string[] = [
  'TcpExtTCPRcvQDrop',
  'TcpExtTCPOFODrop',
  'TcpExtTCPZeroWindowDrop',
  'TcpExtPAWSEstab',
  'TcpExtRcvPruned',
  'TcpExtOfoPruned',
]

/** The short name a sysadmin knows from nstat without its group prefix (TCPZeroWindowDrop). */
export function counterLabel(name: string): string {
  return name.replace(/^TcpExt/, '')
}
