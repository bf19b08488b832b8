// SPDX-License-Identifier: Apache-2.0
/*
 * tcpretrans: TCP retransmits (tcp:tcp_retransmit_skb), SYN-ACK retransmits
 * (tcp:tcp_retransmit_synack) and tail loss probes (kprobe tcp_send_loss_probe,
 * only where the kernel has kprobes). User space picks the program variant that
 * matches the running kernel's tracepoint prototype before load: since 6.17 the
 * skb tracepoint has a third argument `err` and fires for failed attempts too.
 */
#include "include/netdrop-common.bpf.h"
#include "include/nest.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* This tool's own knobs; .rodata holds them after the common `cfg`. */
const volatile struct tcpretrans_config tool_cfg = {};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SCRATCH_SLOTS);
	__type(key, __u32);
	__type(value, struct retrans_event);
} scratch SEC(".maps");

static __always_inline int emit(void *ctx, const struct sock_common *skc, const struct sock_common *tuple,
				const struct sk_buff *skb, __u8 type, int err, __u32 slot)
{
	struct retrans_event *e;
	__u64 size;

	if (err != 0 && !tool_cfg.include_failed)
		return 0;
	e = nest_record(&scratch, slot);
	if (!e)
		return 0;
	e->family = sock_addrs(tuple, e->laddr, e->raddr);
	e->lport = BPF_CORE_READ(tuple, skc_num);
	e->rport = bpf_ntohs(BPF_CORE_READ(tuple, skc_dport));
	e->netns = netns_of_sock(skc);
	if (!filters_match(e->family, e->lport, e->rport, e->laddr, e->raddr, e->netns))
		return 0;
	e->state = type == RETRANS_SYNACK ? 3 /* TCP_SYN_RECV */ : BPF_CORE_READ(tuple, skc_state);
	if (!admit(0, cfg.rate_limit)) {
		count_suppressed(0, e->state);
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->type = type;
	e->err = err;
	e->seq = 0;
	e->segs = 1; /* a SYN-ACK, a probe */
	if (skb) {
		const struct tcp_skb_cb *tcb = (const void *)&skb->cb[0];
		bpf_probe_read_kernel(&e->seq, sizeof(e->seq), &skb->cb[0]); /* TCP_SKB_CB(skb)->seq */
		e->segs = BPF_CORE_READ(tcb, tcp_gso_segs);
	}
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->stack_bytes = tool_cfg.want_stack ? take_stack(ctx, e->stack) : 0;
	size = e->stack_bytes;
	if (size > sizeof(e->stack))
		size = sizeof(e->stack);
	submit(ctx, e, offsetof(struct retrans_event, stack) + size);
	return 0;
}

/* emit() from the record slot of this run's nesting depth (bpf/include/nest.bpf.h).
 * tcp_retransmit_skb() runs in process context too (ACKs from the socket
 * backlog, bottom halves enabled), where the kernel can skip its program for a
 * nested event: its programs are a hook's primary and have a standby. */
static __always_inline int record(void *ctx, const struct sock_common *skc, const struct sock_common *tuple,
				  const struct sk_buff *skb, __u8 type, int err, bool primary)
{
	__u32 slot;
	struct nest_state *n = nest_enter(&slot, primary);

	emit(ctx, skc, tuple, skb, type, err, slot);
	nest_exit(n, primary);
	return 0;
}

static __always_inline int retransmit(void *ctx, const struct sock *sk, const struct sk_buff *skb, int err)
{
	return record(ctx, &sk->__sk_common, &sk->__sk_common, skb, RETRANS_SKB, err, true);
}

static __always_inline int retransmit_standby(void *ctx, const struct sock *sk, const struct sk_buff *skb, int err)
{
	if (!standby_covers())
		return 0;
	return emit(ctx, &sk->__sk_common, &sk->__sk_common, skb, RETRANS_SKB, err, SLOT_STANDBY);
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(retransmit_skb, const struct sock *sk, const struct sk_buff *skb)
{
	return retransmit(ctx, sk, skb, 0);
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(retransmit_skb_standby, const struct sock *sk, const struct sk_buff *skb)
{
	return retransmit_standby(ctx, sk, skb, 0);
}

/* 6.17+: (sk, skb, err); called for failed attempts too. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(retransmit_skb_err, const struct sock *sk, const struct sk_buff *skb, int err)
{
	return retransmit(ctx, sk, skb, err);
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(retransmit_skb_err_standby, const struct sock *sk, const struct sk_buff *skb, int err)
{
	return retransmit_standby(ctx, sk, skb, err);
}

/* SYN-ACK retransmits and loss probes run in softirq, or with bottom halves
 * disabled: they are not skipped for nesting (no standby), but they can run
 * inside a process-context retransmit's program, so they take a slot of their own. */
SEC("tp_btf/tcp_retransmit_synack")
int BPF_PROG(retransmit_synack, const struct sock *sk, const struct request_sock *req)
{
	return record(ctx, &sk->__sk_common, &req->__req_common, NULL, RETRANS_SYNACK, 0, false);
}

SEC("kprobe/tcp_send_loss_probe")
int BPF_KPROBE(loss_probe, struct sock *sk)
{
	return record(ctx, &sk->__sk_common, &sk->__sk_common, NULL, RETRANS_TLP, 0, false);
}
