/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event ABI shared by the .bpf.c programs and the TypeScript decoder
 * (bpf/event-abi.ts). Fixed-width types only; test/unit/bpf-abi.test.ts checks
 * every offset below against the BTF of the compiled objects.
 */
#ifndef NETDROP_H
#define NETDROP_H

#define TASK_COMM_LEN 16
#define MAX_STACK_DEPTH 32
#define MAX_FILTER_PORTS 8
#define MAX_FILTER_ADDRS 8
#define MAX_FILTER_REASONS 16

/* retrans_event.type */
#define RETRANS_SKB 1
#define RETRANS_SYNACK 2
#define RETRANS_TLP 3

/* drop_event.flags */
#define DROP_HAS_SOCKET 1
#define DROP_HAS_TCP_HEADER 2
#define DROP_STACK_NOT_SAMPLED 4
#define DROP_HAS_REASON 8

/* Indexes of the per-CPU `counters` map. */
#define COUNTER_LOST 0
#define COUNTER_HIDDEN_NOT_SPECIFIED 1
#define COUNTER_SUPPRESSED 2
#define COUNTER_STACK_NOT_SAMPLED 3
/* Events a standby program emitted because the kernel skipped the primary. */
#define COUNTER_COVERED 4
#define COUNTER_MAX 5

/* Addresses are 16 bytes; IPv4 is stored v4-mapped (::ffff:a.b.c.d), so the
 * wire family is visible in the address itself. Ports in host order. */
struct retrans_event {
	__u64 ts_ns;
	__u32 pid;
	__u32 netns;
	__u8 type;
	__u8 family;
	__u8 state;
	__u8 pad;
	__u16 lport;
	__u16 rport;
	__u8 laddr[16];
	__u8 raddr[16];
	__u32 seq;
	__s32 err;
	char comm[TASK_COMM_LEN];
	__u32 stack_bytes;
	__u32 segs; /* segments in the skb (TSO/GSO): what TcpRetransSegs adds */
	__u64 stack[MAX_STACK_DEPTH];
};

struct drop_event {
	__u64 ts_ns;
	__u64 location;
	__u64 skb;
	__u64 sock_ino;
	__u32 pid;
	__u32 netns;
	__u32 reason;
	__s32 ifindex;
	__u8 family;
	__u8 state; /* 0: no socket */
	__u8 tcpflags;
	__u8 flags;
	__u16 sport;
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
	char comm[TASK_COMM_LEN];
	char dev[16];
	/* The process that last read or wrote the socket (tcpdrop --owner);
	 * owner_tgid 0: not known in the kernel. */
	char owner_comm[TASK_COMM_LEN];
	__u32 owner_tgid;
	__u32 stack_bytes;
	__u64 stack[MAX_STACK_DEPTH];
};

/* Value of tcpdrop's `owners` map, keyed by socket address. */
struct sock_owner {
	__u32 tgid;
	char comm[TASK_COMM_LEN];
};

/* Read-only configuration set by user space before load (.rodata). Each
 * object holds the common part (`cfg`, netdrop-common.bpf.h) and its own
 * (`tool_cfg`), so no object carries another tool's knobs. */
struct run_config {
	__u8 family; /* 0 any, 4, 6 */
	__u8 nports;
	__u8 naddrs;
	__u8 nreasons;
	__u32 netns; /* 0 any */
	__u16 ports[MAX_FILTER_PORTS];
	__u8 addrs[MAX_FILTER_ADDRS][16];
	__u32 reasons[MAX_FILTER_REASONS];
	__u32 rate_limit; /* events/s, 0 = none */
	__u8 use_perf_buffer; /* kernels before 5.8: `events` is a perf event array */
	__u8 pad[3];
};

struct tcpdrop_config {
	__u32 stack_rate; /* stacks/s, 0 = none */
	__u32 not_specified; /* code of SKB_DROP_REASON_NOT_SPECIFIED on this kernel */
	__u8 want_stack;
	__u8 hide_not_specified;
	__u8 want_owner; /* --owner: look the socket up in `owners` */
	__u8 pad;
};

struct tcpretrans_config {
	__u8 want_stack;
	__u8 include_failed; /* 6.17+: report failed attempts too */
	__u8 pad[2];
};

struct dropwatch_config {
	__u8 group_by_dev; /* --by dev: the device name is part of the key */
	__u8 pad[3];
};

/* dropwatch: drops are counted in the kernel under this key (cumulative, never
 * reset: user space reports differences, so no increment is lost between a
 * read and a reset). */
struct drop_count_key {
	__u64 location;
	__u32 reason;
	__u32 netns;
	__u16 protocol; /* skb->protocol, host order */
	__u16 pad;
	__s32 ifindex;
	char dev[16];
};

/* Key of the `suppressed` map: what --rate-limit suppressed, by kind. */
struct suppressed_key {
	__u64 location;
	__u32 reason; /* or TCP state for retransmits */
	__u32 pad;
};

#endif
