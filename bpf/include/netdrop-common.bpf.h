/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Maps and helpers shared by the programs: the ring buffer, per-CPU counters
 * (lost events, hidden and suppressed ones), the in-kernel filters and the
 * per-second rate limits. Each object gets its own copy of these maps.
 */
#ifndef NETDROP_COMMON_BPF_H
#define NETDROP_COMMON_BPF_H

#include "kernel-types.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "../netdrop.h"

#define AF_INET 2
#define AF_INET6 10
#define NSEC_PER_SEC 1000000000ULL

/* Set by user space before load; the verifier prunes what it disables. The
 * common part comes first in .rodata: each .bpf.c defines its `tool_cfg` after
 * including this header (bpf/event-abi.ts RODATA, checked by bpf-abi.test.ts). */
const volatile struct run_config cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024); /* resized by user space before load */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct suppressed_key);
	__type(value, __u64);
} suppressed SEC(".maps");

struct rate_window {
	__u64 start_ns;
	__u64 count;
};

/* 0: event lines (--rate-limit), 1: stacks (--stack-rate). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct rate_window);
} windows SEC(".maps");

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &idx);
	/* Atomic although per CPU: a nested program (include/nest.bpf.h) can interrupt an increment. */
	if (v)
		__sync_fetch_and_add(v, 1);
}

/* At most `limit` per second (0 = no limit). Windows are racy across CPUs by a
 * few events at the boundary, which is fine for a safety valve. The add's result
 * is not used: a fetching atomic (BPF_FETCH) does not load before 5.12, a plain
 * one (XADD) loads everywhere. */
static __always_inline bool admit(__u32 which, __u32 limit)
{
	struct rate_window *w;
	__u64 now, n;

	if (limit == 0)
		return true;
	w = bpf_map_lookup_elem(&windows, &which);
	if (!w)
		return true;
	now = bpf_ktime_get_ns();
	if (now - w->start_ns >= NSEC_PER_SEC) {
		w->start_ns = now;
		w->count = 0;
	}
	__sync_fetch_and_add(&w->count, 1);
	n = w->count;
	return n <= limit;
}

static __always_inline void count_suppressed(__u64 location, __u32 reason)
{
	struct suppressed_key key = { .location = location, .reason = reason };
	__u64 one = 1, *v;

	count(COUNTER_SUPPRESSED);
	v = bpf_map_lookup_elem(&suppressed, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&suppressed, &key, &one, BPF_NOEXIST);
}

static __always_inline void v4_mapped(__u8 *dst, __be32 addr)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &addr, 4);
}

static __always_inline bool is_v4_mapped(const __u8 *a)
{
	const __u64 *w = (const __u64 *)a;
	return w[0] == 0 && ((const __u32 *)a)[2] == bpf_htonl(0x0000ffff);
}

static __always_inline bool addr_eq(const __u8 *a, const volatile __u8 *b)
{
	const __u64 *x = (const __u64 *)a;
	const volatile __u64 *y = (const volatile __u64 *)b;
	return x[0] == y[0] && x[1] == y[1];
}

/* The user's -4/-6, --port, --addr, --netns applied in the kernel. */
static __always_inline bool filters_match(__u8 family, __u16 p1, __u16 p2, const __u8 *a1, const __u8 *a2, __u32 netns)
{
	if (cfg.family && cfg.family != family)
		return false;
	if (cfg.netns && cfg.netns != netns)
		return false;
	if (cfg.nports) {
		bool hit = false;
#pragma unroll
		for (int i = 0; i < MAX_FILTER_PORTS; i++) {
			if (i < cfg.nports && (cfg.ports[i] == p1 || cfg.ports[i] == p2))
				hit = true;
		}
		if (!hit)
			return false;
	}
	if (cfg.naddrs) {
		bool hit = false;
#pragma unroll
		for (int i = 0; i < MAX_FILTER_ADDRS; i++) {
			if (i < cfg.naddrs && (addr_eq(a1, cfg.addrs[i]) || addr_eq(a2, cfg.addrs[i])))
				hit = true;
		}
		if (!hit)
			return false;
	}
	return true;
}

/* --reason: is this drop reason one of those asked for (none asked: all are)? */
static __always_inline bool reason_wanted(__u32 reason)
{
	bool hit = false;

	if (!cfg.nreasons)
		return true;
#pragma unroll
	for (int i = 0; i < MAX_FILTER_REASONS; i++) {
		if (i < cfg.nreasons && cfg.reasons[i] == reason)
			hit = true;
	}
	return hit;
}

static __always_inline __u32 netns_of_sock(const struct sock_common *skc)
{
	return BPF_CORE_READ(skc, skc_net.net, ns.inum);
}

/* Local and remote address of a socket (request and timewait sockets too). */
static __always_inline __u8 sock_addrs(const struct sock_common *skc, __u8 *laddr, __u8 *raddr)
{
	__u16 family = BPF_CORE_READ(skc, skc_family);

	if (family == AF_INET6) {
		/* 16 bytes each (BPF_CORE_READ_INTO would copy sizeof(*laddr) = 1). */
		bpf_core_read(laddr, 16, &skc->skc_v6_rcv_saddr);
		bpf_core_read(raddr, 16, &skc->skc_v6_daddr);
		/* IPv4 flows on v4-mapped IPv6 sockets are IPv4 on the wire. */
		return is_v4_mapped(laddr) ? 4 : 6;
	}
	v4_mapped(laddr, BPF_CORE_READ(skc, skc_rcv_saddr));
	v4_mapped(raddr, BPF_CORE_READ(skc, skc_daddr));
	return 4;
}

/* Writes the first `size` bytes of a record to the ring buffer (or, before 5.8,
 * the perf buffer that user space made of the same map); counts failures. The
 * branch not taken is pruned at load: cfg is read-only. */
static __always_inline void submit(void *ctx, void *rec, __u64 size)
{
	long err;

	if (cfg.use_perf_buffer)
		err = bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, rec, size);
	else
		err = bpf_ringbuf_output(&events, rec, size, 0);
	if (err)
		count(COUNTER_LOST);
}

/* Fills stack[] (kernel stack, innermost first); returns the bytes used. */
static __always_inline __u32 take_stack(void *ctx, __u64 *stack)
{
	long n = bpf_get_stack(ctx, stack, MAX_STACK_DEPTH * sizeof(__u64), 0);
	if (n < 0)
		return 0;
	return (__u32)n;
}

#endif
