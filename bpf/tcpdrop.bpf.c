// SPDX-License-Identifier: Apache-2.0
/*
 * tcpdrop: TCP segments freed as dropped (skb:kfree_skb). The tracepoint's
 * prototype grew over time — (skb, location), + reason (5.17), + rx_sk (6.11) —
 * so there is one program per prototype and user space loads the one matching
 * the running kernel's BTF.
 *
 * A drop is a TCP drop when the skb's socket (rx_sk, else skb->sk) is a TCP
 * socket, or, with no socket, when the IP header says TCP (first fragment;
 * IPv6 extension headers skipped). Copies owned by packet sockets are not.
 * The tuple is the segment's own source → destination, from its headers.
 *
 * tp_btf arguments are typed kernel pointers, so fields are read with plain
 * (CO-RE relocated) loads that the verifier turns into fault-safe ones, not with
 * a bpf_probe_read_kernel() call each: 632 → 365 ns per drop on 6.18. Only the
 * packet bytes behind skb->head (an untyped pointer) still need the helper.
 *
 * Before 5.18, tcp_drop(sk, skb) counted and freed TCP data-path drops with
 * __kfree_skb(), which skb:kfree_skb does not see. Where it is out of line (the
 * 4.10–5.8 era), kprobe/tcp_drop shows them beside the tracepoint's; no drop
 * reaches both, as tcp_drop() never calls kfree_skb().
 */
#include "include/netdrop-common.bpf.h"
#include "include/nest.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* This tool's own knobs; .rodata holds them after the common `cfg`. */
const volatile struct tcpdrop_config tool_cfg = {};

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_TCP 6
#define SOCK_STREAM 1
#define TCP_TIME_WAIT 6
#define TCP_CLOSE 7
#define TCP_NEW_SYN_RECV 12
#define MAX_IPV6_EXT_HEADERS 4

/* One record slot per nesting depth (bpf/include/nest.bpf.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRATCH_SLOTS);
	__type(key, __u32);
	__type(value, struct drop_event);
} scratch SEC(".maps");

/* tcpdrop --owner: which process uses a socket, remembered in process context
 * (the drop itself happens in softirq, where `current` is anyone). A lookup
 * here is exact for sockets that ended before user space could scan /proc. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct sock_owner);
} owners SEC(".maps");

struct ipv4_header {
	__u8 ver_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__be16 check;
	__be32 saddr;
	__be32 daddr;
};

struct ipv6_header {
	__be32 ver_tc_flow;
	__be16 payload_len;
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

/* Reads the IP and TCP headers from skb->head, ->network_header and ->protocol;
 * returns true when the packet is TCP (first fragment). The packet bytes need
 * bpf_probe_read_kernel (skb->head is not a typed pointer). */
static __always_inline bool read_headers(unsigned char *head, __u16 nh, __be16 proto, struct drop_event *e)
{
	__u32 th;
	__u8 l4;

	if (!head || nh == (__u16)~0U)
		return false;
	if (proto == bpf_htons(ETH_P_IP)) {
		struct ipv4_header ip;
		if (bpf_probe_read_kernel(&ip, sizeof(ip), head + nh))
			return false;
		if ((ip.ver_ihl >> 4) != 4 || (bpf_ntohs(ip.frag_off) & 0x1fff))
			return false;
		l4 = ip.protocol;
		th = nh + (ip.ver_ihl & 0xf) * 4;
		e->family = 4;
		v4_mapped(e->saddr, ip.saddr);
		v4_mapped(e->daddr, ip.daddr);
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6_header ip6;
		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), head + nh))
			return false;
		l4 = ip6.nexthdr;
		th = nh + sizeof(ip6);
#pragma unroll
		for (int i = 0; i < MAX_IPV6_EXT_HEADERS; i++) {
			__u8 ext[2];
			if (l4 != 0 && l4 != 43 && l4 != 60 && l4 != 44)
				break;
			if (bpf_probe_read_kernel(ext, sizeof(ext), head + th))
				return false;
			if (l4 == 44) {
				__be16 frag;
				if (bpf_probe_read_kernel(&frag, sizeof(frag), head + th + 2))
					return false;
				if (bpf_ntohs(frag) & 0xfff8) /* not the first fragment */
					return false;
				th += 8;
			} else {
				th += (ext[1] + 1) * 8;
			}
			l4 = ext[0];
		}
		e->family = 6;
		__builtin_memcpy(e->saddr, ip6.saddr, 16);
		__builtin_memcpy(e->daddr, ip6.daddr, 16);
	} else {
		return false;
	}
	if (l4 != IPPROTO_TCP)
		return false;
	{
		__u8 tcp[14];
		if (bpf_probe_read_kernel(tcp, sizeof(tcp), head + th))
			return true;
		e->sport = ((__u16)tcp[0] << 8) | tcp[1];
		e->dport = ((__u16)tcp[2] << 8) | tcp[3];
		e->tcpflags = tcp[13];
		e->flags |= DROP_HAS_TCP_HEADER;
	}
	return true;
}

/* Is this socket TCP? Timewait and request sockets only have sock_common,
 * and only TCP creates them. */
static __always_inline bool sock_is_tcp(const struct sock *sk, __u8 state)
{
	__u16 family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return false;
	if (state == TCP_TIME_WAIT || state == TCP_NEW_SYN_RECV)
		return true;
	return BPF_CORE_READ_BITFIELD(sk, sk_protocol) == IPPROTO_TCP &&
	       BPF_CORE_READ_BITFIELD(sk, sk_type) == SOCK_STREAM;
}

/* The inode number of a socket's file (0: none, e.g. request sockets). */
static __always_inline __u64 socket_inode(const struct socket *sock)
{
	struct file *file;
	struct inode *inode;

	if (!sock)
		return 0;
	file = sock->file;
	if (!file)
		return 0;
	inode = file->f_inode;
	return inode ? inode->i_ino : 0;
}

/* The socket's part of a record: state, namespace and inode (read by the
 * caller, typed or not) and owner. */
static __always_inline void fill_socket(struct drop_event *e, const struct sock *sk, __u8 state, __u32 netns,
					__u64 ino)
{
	e->state = state;
	e->flags |= DROP_HAS_SOCKET;
	e->netns = netns;
	e->sock_ino = ino;
	if (tool_cfg.want_owner) {
		__u64 key = (__u64)sk;
		struct sock_owner *o = bpf_map_lookup_elem(&owners, &key);
		if (o) {
			e->owner_tgid = o->tgid;
			__builtin_memcpy(e->owner_comm, o->comm, sizeof(e->owner_comm));
		}
	}
}

/* The socket's own tuple (local → remote), for a packet without a readable
 * header (e.g. before the IP layer on output). Probe reads: no typed loads. */
static __always_inline void socket_tuple(struct drop_event *e, const struct sock *sk)
{
	e->family = sock_addrs(&sk->__sk_common, e->saddr, e->daddr);
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

static __always_inline struct drop_event *new_event(__u32 slot)
{
	struct drop_event *e = nest_record(&scratch, slot);

	if (!e)
		return NULL;
	e->flags = 0;
	e->tcpflags = 0;
	e->sport = 0;
	e->dport = 0;
	e->family = 0;
	e->state = 0;
	e->sock_ino = 0;
	e->owner_tgid = 0;
	e->netns = 0;
	return e;
}

/* What every drop program does once the tuple and socket are in `e`: filters,
 * reason, rate limit, then the rest of the record and out. */
static __always_inline int finish(void *ctx, struct drop_event *e, const struct sk_buff *skb, __u64 location,
				  __u32 reason, bool has_reason)
{
	if (!filters_match(e->family, e->sport, e->dport, e->saddr, e->daddr, e->netns))
		return 0;
	if (has_reason) {
		e->flags |= DROP_HAS_REASON;
		if (!reason_wanted(reason))
			return 0;
		if (!cfg.nreasons && tool_cfg.hide_not_specified && reason == tool_cfg.not_specified) {
			count(COUNTER_HIDDEN_NOT_SPECIFIED);
			return 0;
		}
	}
	if (!admit(0, cfg.rate_limit)) {
		count_suppressed(location, reason);
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->location = location;
	e->skb = (__u64)skb;
	e->reason = reason;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->stack_bytes = 0;
	if (tool_cfg.want_stack) {
		if (admit(1, tool_cfg.stack_rate)) {
			e->stack_bytes = take_stack(ctx, e->stack);
		} else {
			e->flags |= DROP_STACK_NOT_SAMPLED;
			count(COUNTER_STACK_NOT_SAMPLED);
		}
	}
	__u64 size = e->stack_bytes;
	if (size > sizeof(e->stack))
		size = sizeof(e->stack);
	submit(ctx, e, offsetof(struct drop_event, stack) + size);
	return 0;
}

/* The pointers a drop record is read through. A load of a pointer field from
 * the tracepoint's own arguments (trusted pointers) costs the verifier linear
 * searches of the kernel's BTF, ~1.5 ms for each path that reaches it on 6.18;
 * so a drop program makes those loads once, on entry, before nesting depth,
 * socket and header checks split the paths (kfree_skb4: 27 → ~10 ms to verify).
 * Loads through the pointers they give are untrusted, and cheap. */
struct drop_pointers {
	struct sock *sk;	/* rx_sk, else skb->sk; NULL: none */
	struct socket *sock;	/* sk->sk_socket (full sockets only) */
	struct net *net;	/* sk's namespace */
	struct net_device *dev; /* skb->dev */
};

static __always_inline int handle(void *ctx, struct sk_buff *skb, const struct drop_pointers *p, __u64 location,
				  __u32 reason, bool has_reason, __u32 slot)
{
	struct drop_event *e = new_event(slot);
	struct net_device *dev = p->dev;
	bool tcp_packet;

	if (!e)
		return 0;
	tcp_packet = read_headers(skb->head, skb->network_header, skb->protocol, e);
	if (p->sk) {
		__u8 state = p->sk->__sk_common.skc_state;
		if (!sock_is_tcp(p->sk, state))
			return 0;
		/* p->net is set whenever p->sk is, but a 5.10 verifier, which takes
		 * typed pointers for never NULL, also walks the path where it is not. */
		fill_socket(e, p->sk, state, p->net ? p->net->ns.inum : 0, socket_inode(p->sock));
		if (!(e->flags & DROP_HAS_TCP_HEADER))
			socket_tuple(e, p->sk);
	} else {
		if (!tcp_packet)
			return 0;
		e->netns = dev ? dev->nd_net.net->ns.inum : 0;
	}
	e->ifindex = dev ? dev->ifindex : skb->skb_iif;
	if (dev)
		__builtin_memcpy(e->dev, dev->name, sizeof(e->dev));
	else
		e->dev[0] = 0;
	return finish(ctx, e, skb, location, reason, has_reason);
}

/* kfree_skb() runs in process context too; before 6.2 a softirq's drop runs
 * this program again inside itself (and the tcp_drop kprobe can run inside
 * it): each run builds its record in the slot of its nesting depth. */
static __always_inline int handle_drop(void *ctx, struct sk_buff *skb, __u64 location, __u32 reason, bool has_reason,
				       struct sock *rx_sk)
{
	struct drop_pointers p = { .dev = skb->dev };
	struct nest_state *n;
	__u32 slot;

	barrier_var(p.dev); /* one load, not one per branch below */
	p.sk = rx_sk ? rx_sk : skb->sk;
	if (p.sk) {
		__u8 state = p.sk->__sk_common.skc_state;

		p.net = p.sk->__sk_common.skc_net.net;
		barrier_var(p.net); /* before the branch, not in both of its paths */
		/* Timewait and request sockets end before struct sock's sk_socket. */
		if (state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV)
			p.sock = p.sk->sk_socket;
	}
	n = nest_enter(&slot, false);
	handle(ctx, skb, &p, location, reason, has_reason, slot);
	nest_exit(n, false);
	return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(kfree_skb2, struct sk_buff *skb, void *location)
{
	return handle_drop(ctx, skb, (__u64)location, 0, false, NULL);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(kfree_skb3, struct sk_buff *skb, void *location, unsigned int reason)
{
	return handle_drop(ctx, skb, (__u64)location, reason, true, NULL);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(kfree_skb4, struct sk_buff *skb, void *location, unsigned int reason, struct sock *rx_sk)
{
	return handle_drop(ctx, skb, (__u64)location, reason, true, rx_sk);
}

/* tcp_drop(sk, skb), out of line before 5.18: the data-path drops the
 * tracepoint does not see. sk is a full TCP socket; the arguments are untyped
 * here, so each field is a CO-RE probe read. LOCATION is the caller (the return
 * address on the stack at entry); no reason (the kernel had none for these). */
static __always_inline int tcp_drop_record(struct pt_regs *ctx, struct sock *sk, struct sk_buff *skb, __u32 slot)
{
	struct drop_event *e = new_event(slot);
	struct net_device *dev;
	__u64 caller = 0;

	/* --reason: a drop without one matches none of the asked-for reasons. */
	if (!e || !sk || cfg.nreasons)
		return 0;
	fill_socket(e, sk, BPF_CORE_READ(sk, __sk_common.skc_state), netns_of_sock(&sk->__sk_common),
		    BPF_CORE_READ(sk, sk_socket, file, f_inode, i_ino));
	read_headers(BPF_CORE_READ(skb, head), BPF_CORE_READ(skb, network_header), BPF_CORE_READ(skb, protocol), e);
	if (!(e->flags & DROP_HAS_TCP_HEADER))
		socket_tuple(e, sk);
	dev = BPF_CORE_READ(skb, dev);
	e->ifindex = dev ? BPF_CORE_READ(dev, ifindex) : BPF_CORE_READ(skb, skb_iif);
	e->dev[0] = 0;
	if (dev)
		bpf_core_read_str(e->dev, sizeof(e->dev), &dev->name);
	bpf_probe_read_kernel(&caller, sizeof(caller), (void *)PT_REGS_SP(ctx));
	return finish(ctx, e, skb, caller, 0, false);
}

SEC("kprobe/tcp_drop")
int BPF_KPROBE(tcp_drop, struct sock *sk, struct sk_buff *skb)
{
	__u32 slot;
	struct nest_state *n = nest_enter(&slot, false);

	tcp_drop_record(ctx, sk, skb, slot);
	nest_exit(n, false);
	return 0;
}

/* --owner: remember the process behind each TCP socket it reads or writes. */
static __always_inline void remember_owner(struct sock *sk)
{
	__u64 key = (__u64)sk;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct sock_owner *known, fresh = {};

	if (!sk || !sock_is_tcp(sk, sk->__sk_common.skc_state))
		return;
	known = bpf_map_lookup_elem(&owners, &key);
	if (known && known->tgid == tgid)
		return; /* the common case: no write per read */
	fresh.tgid = tgid;
	bpf_get_current_comm(fresh.comm, sizeof(fresh.comm));
	bpf_map_update_elem(&owners, &key, &fresh, BPF_ANY);
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(owner_recv, struct sock *sk, int ret, int flags)
{
	remember_owner(sk);
	return 0;
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(owner_send, struct sock *sk, int ret, int flags)
{
	remember_owner(sk);
	return 0;
}

/* Before 6.5 (no sock_*_length): called from tcp_recvmsg, in process context. */
SEC("tp_btf/tcp_rcv_space_adjust")
int BPF_PROG(owner_rcv_space, struct sock *sk)
{
	remember_owner(sk);
	return 0;
}

/* A closed socket's address may be reused by the next one: forget it. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(owner_forget, struct sock *sk, int oldstate, int newstate)
{
	__u64 key = (__u64)sk;

	if (newstate == TCP_CLOSE)
		bpf_map_delete_elem(&owners, &key);
	return 0;
}
