#!/bin/bash
# Data-path TCP drops on Debian 5.10 (tcp_drop inlined): how well does a
# __kfree_skb kprobe filtered by its caller see them? Run in the legacy guest:
#   VM_NETNS=1 VM_SHARE=$PWD run-in-guest.sh 5.10 'bash bench/datapath-drops/eval.sh'
# Each scenario leaves the receiver not reading, so its buffer fills; ground
# truth is the sockets' sk_drops (`ss -m` d, which inlined tcp_drop() bumps
# just before __kfree_skb) and the TcpExt counters of the scenario.
set -u
cd "$(dirname "$0")"
T=/sys/kernel/tracing
PEER="ip netns exec peer"
PORT=5300

# Caller ranges: the four functions of the issue, plus what tail-calls land in.
ranges() {
  sort /proc/kallsyms | awk -v want="$1" 'BEGIN{n=split(want,w,",");for(i=1;i<=n;i++)W[w[i]]=1} {if(prev!=""){print prev" 0x"$1; prev=""} if(($2=="t"||$2=="T")&&($3 in W)) prev=$3" 0x"$1}'
}
FUNCS=tcp_data_queue,tcp_validate_incoming,tcp_rcv_established,tcp_rcv_state_process,tcp_prune_ofo_queue,tcp_v4_do_rcv,tcp_v6_do_rcv
ranges $FUNCS > /tmp/ranges.txt
cat /tmp/ranges.txt
FILTER=$(awk '{printf "%s(ret >= %s && ret < %s)", (NR>1?" || ":""), $2, $3}' /tmp/ranges.txt)

echo "p:evdp/kfs __kfree_skb skb=%di ret=+0(%sp):x64 seq=+40(%di):u32 end=+44(%di):u32 fl=+52(%di):u8 len=+112(%di):u32" >> $T/kprobe_events || exit 1
mkdir $T/instances/ev
echo 16384 > $T/instances/ev/buffer_size_kb
echo "$FILTER" > $T/instances/ev/events/evdp/kfs/filter || { echo "filter rejected"; exit 1; }

netstat_of() { $PEER cat /proc/net/netstat; cat /proc/net/netstat; }
counters() { # sums TcpExt counters over both namespaces
  netstat_of | awk '/^TcpExt:/{ if(!h){for(i=2;i<=NF;i++)n[i]=$i; h=1} else {for(i=2;i<=NF;i++)v[n[i]]+=$i; h=0} } END{for(k in v) print k, v[k]}' | sort
}
skdrops() { # sum of sk_drops of the scenario's sockets (both ends)
  { $PEER ss -tmn "sport = :$PORT or dport = :$PORT"; ss -tmn "sport = :$PORT or dport = :$PORT"; } |
    grep -o 'skmem:([^)]*)' | sed -E 's/.*,d([0-9]+)\)/\1/' | awk '{s+=$1} END{print s+0}'
}

run() { # name, nft-rules, netem, bytes, chunk, receiver's tcp_adv_win_scale, receiver mode
  local name=$1 rules=$2 netem=$3 bytes=$4 chunk=$5 recv=${7:-recv}
  $PEER sysctl -qw net.ipv4.tcp_adv_win_scale=$6
  PORT=$((PORT+1))
  nft flush ruleset; [ -n "$rules" ] && nft -f - <<<"table inet ev { chain in { type filter hook input priority 0; ${rules//PORT/$PORT}; }; }"
  tc qdisc del dev veth0 root 2>/dev/null; [ -n "$netem" ] && tc qdisc add dev veth0 root netem $netem
  echo > $T/instances/ev/trace
  counters > /tmp/c0
  $PEER node traffic.mjs $recv $PORT 9 & rp=$!
  sleep 1.5
  echo 1 > $T/instances/ev/events/evdp/kfs/enable
  node traffic.mjs send $PORT $bytes $chunk 6 & sp=$!
  sleep 5
  echo 0 > $T/instances/ev/events/evdp/kfs/enable
  local d; d=$(skdrops)
  counters > /tmp/c1
  kill $sp $rp 2>/dev/null; wait 2>/dev/null
  cat $T/instances/ev/trace | grep -v '^#' > /tmp/rec-$name.txt
  echo "== $name sk_drops=$d overrun=$(grep -o 'overrun: [0-9]*' $T/instances/ev/per_cpu/cpu*/stats | awk '{s+=$2}END{print s}')"
  awk 'NR==FNR{a[$1]=$2; next} $2!=a[$1] && $1 ~ /OFO|ZeroWindow|RcvQ|Backlog|Prune|Collaps|Drop/ {print "  " $1, $2-a[$1]}' /tmp/c0 /tmp/c1
  node analyze.mjs /tmp/ranges.txt /tmp/rec-$name.txt "$d"
}

# No window scaling in the receiver's netns, tiny fixed receive buffer.
$PEER sysctl -qw net.ipv4.tcp_window_scaling=0 net.ipv4.tcp_rmem="4096 8192 8192" net.ipv4.tcp_moderate_rcvbuf=0 2>&1
# 1. zero-window and out-of-window data: the sender is told the window is 64 KiB
#    (the receiver's ACKs rewritten on the way), the receiver's is ~4 KiB
run zero-window "ip saddr 198.18.0.2 tcp sport PORT tcp window set 65535" "" 200000 1000 1
# 2. receive buffer full: the receiver reads for 1 s with a 256 KiB buffer, then
#    stops and shrinks SO_RCVBUF to 4 KiB; the open window lets the data in flight come
$PEER sysctl -qw net.ipv4.tcp_window_scaling=1 net.ipv4.tcp_rmem="4096 262144 262144"
run rcvq-full "" "" 20000000 65536 1 shrink
# 3. out-of-order data that does not fit: as 2, with the sender's segments lost and reordered
run ofo "" "loss 5% delay 1ms reorder 30%" 20000000 65536 1 shrink

# Overhead per freed skb: 20000 one-byte round trips (each a data skb freed by
# the reader and ACKs freed by __kfree_skb), probe off and on (filtered,
# nothing recorded: the flow has no drops), alternating; nhit from kprobe_profile.
nft flush ruleset; tc qdisc del dev veth0 root 2>/dev/null
[ "${EVAL_OVERHEAD:-1}" = 1 ] && {
$PEER node traffic.mjs echo 5400 & kp=$!
sleep 1.5
for round in 1 2 3 4 5 6; do
  off=$(node traffic.mjs pingpong 5400 20000)
  h0=$(awk '$1=="kfs"{print $2}' $T/kprobe_profile)
  echo 1 > $T/instances/ev/events/evdp/kfs/enable
  on=$(node traffic.mjs pingpong 5400 20000)
  echo 0 > $T/instances/ev/events/evdp/kfs/enable
  h1=$(awk '$1=="kfs"{print $2}' $T/kprobe_profile)
  echo "overhead round $round: off ${off} ms, on ${on} ms, __kfree_skb hits $((h1-h0)): $(awk -v a=$off -v b=$on -v n=$((h1-h0)) 'BEGIN{printf "%.2f us per freed skb", (b-a)*1000/n}')"
done
kill $kp
}
rmdir $T/instances/ev; echo "-:evdp/kfs" >> $T/kprobe_events
