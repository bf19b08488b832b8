// SPDX-License-Identifier: Apache-2.0
/*
 * dropwatch: every skb:kfree_skb counted in the kernel under (location, reason,
 * netns, protocol[, device]) in a per-CPU hash map. Counters are cumulative;
 * user space reads the map once per interval and reports differences, so the
 * counts are exact at any drop rate. Nothing goes through a ring buffer.
 */
#include "include/netdrop-common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* This tool's own knobs; .rodata holds them after the common `cfg`. */
const volatile struct dropwatch_config tool_cfg = {};

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define MAX_KEYS 16384

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, MAX_KEYS);
	__type(key, struct drop_count_key);
	__type(value, __u64);
} drops SEC(".maps");

static __always_inline int handle(struct sk_buff *skb, __u64 location, __u32 reason, bool has_reason, struct sock *rx_sk)
{
	struct drop_count_key key = {};
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	struct sock *sk = rx_sk ? rx_sk : BPF_CORE_READ(skb, sk);
	__u64 one = 1, *v;

	key.protocol = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	if (cfg.family == 4 && key.protocol != ETH_P_IP)
		return 0;
	if (cfg.family == 6 && key.protocol != ETH_P_IPV6)
		return 0;
	if (dev)
		key.netns = BPF_CORE_READ(dev, nd_net.net, ns.inum);
	else if (sk)
		key.netns = netns_of_sock(&sk->__sk_common);
	if (cfg.netns && cfg.netns != key.netns)
		return 0;
	if (has_reason && !reason_wanted(reason))
		return 0;
	key.location = location;
	key.reason = reason;
	if (tool_cfg.group_by_dev) {
		key.ifindex = dev ? BPF_CORE_READ(dev, ifindex) : BPF_CORE_READ(skb, skb_iif);
		if (dev)
			BPF_CORE_READ_STR_INTO(&key.dev, dev, name);
	}
	v = bpf_map_lookup_elem(&drops, &key);
	if (v) {
		*v += 1; /* per-CPU value: no atomics needed */
		return 0;
	}
	if (bpf_map_update_elem(&drops, &key, &one, BPF_NOEXIST)) {
		/* Full map (or a racing insert on this CPU's behalf): never silent. */
		v = bpf_map_lookup_elem(&drops, &key);
		if (v)
			*v += 1;
		else
			count(COUNTER_LOST);
	}
	return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(count_kfree_skb2, struct sk_buff *skb, void *location)
{
	return handle(skb, (__u64)location, 0, false, NULL);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(count_kfree_skb3, struct sk_buff *skb, void *location, unsigned int reason)
{
	return handle(skb, (__u64)location, reason, true, NULL);
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(count_kfree_skb4, struct sk_buff *skb, void *location, unsigned int reason, struct sock *rx_sk)
{
	return handle(skb, (__u64)location, reason, true, rx_sk);
}
