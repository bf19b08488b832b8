// The receiver's nft rules behind the retransmit scenarios (host and legacy
// tests): SYNs to 9001 black-holed (SYN retransmits), the handshake's final
// ACK to 9002 dropped (SYN-ACK retransmits), and 1 in 40 data segments of the
// bulk flow to 5201 dropped (data retransmits, TLPs). Counters are ground truth.
export const RETRANSMIT_RULES = `table inet ndt {
    chain input {
      type filter hook input priority 0;
      tcp dport 9001 counter drop comment "blackhole"
      tcp dport 9002 tcp flags & (syn | ack) == ack counter drop comment "handshake-ack"
      tcp dport 5201 meta length > 200 numgen random mod 40 == 0 counter drop comment "bulk"
    }
  }`
