/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NETDROP_NEST_BPF_H
#define NETDROP_NEST_BPF_H

#include "netdrop-common.bpf.h"

/*
 * Exactly once when hooks nest. Since 6.2 the kernel does not run a BTF/raw
 * tracepoint program that is already running on this CPU: a retransmit in
 * process context (an ACK from the socket backlog, bottom halves enabled)
 * interrupted by a softirq that retransmits too is skipped (counted as the
 * program's recursion_misses since 6.7, silently before). So a hook that can
 * nest has two programs: the primary marks the CPU busy for as long as it runs;
 * the standby, attached to the same hook, emits only while that mark is set —
 * exactly the events the kernel skipped the primary for — and counts them
 * (COUNTER_COVERED). User space reports misses(primary) − covered as lost: what
 * neither could take (a third level of nesting, or the few instructions before
 * the mark is set and after it is cleared).
 * Before 6.2 the kernel runs the nested primary instead: it clears the mark on
 * its way out, so the standby of that event stays quiet, and it builds its
 * record in a scratch slot of its own (by nest.depth), not over the one its
 * interrupted self is filling. So does every other program of the object that
 * can run inside one of its programs (tcpretrans's SYN-ACK and loss-probe
 * hooks, in a softirq over a process-context retransmit); tcpdrop's programs
 * take their slots this way too (no standby: none of the bench's loads made the
 * kernel skip them).
 */
#define SLOT_STANDBY 2
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
#define READ_ONCE(x) (*(volatile __typeof__(x) *)&(x))
#define SCRATCH_SLOTS 3 /* primary at depth 0 and 1, standby */

struct nest_state {
	__u32 busy;
	__u32 depth;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nest_state);
} nest SEC(".maps");

/* Every program of an object that can run inside another of its programs on
 * the same CPU (a softirq interrupting process context; before 6.2 the same
 * program too) takes the record slot of its nesting depth: enter returns the
 * nest state and sets *slot (SCRATCH_SLOTS when nested too deep). `primary`:
 * this is a hook's primary program, whose run its standby must know of (busy).
 * A nested run restores depth before the interrupted one resumes, so the
 * non-atomic update is safe on this CPU. */
static __always_inline struct nest_state *nest_enter(__u32 *slot, bool primary)
{
	__u32 zero = 0;
	struct nest_state *n = bpf_map_lookup_elem(&nest, &zero);

	*slot = SCRATCH_SLOTS;
	if (!n)
		return NULL;
	if (primary)
		WRITE_ONCE(n->busy, 1);
	if (n->depth < SLOT_STANDBY)
		*slot = n->depth;
	n->depth += 1;
	return n;
}

static __always_inline void nest_exit(struct nest_state *n, bool primary)
{
	if (!n)
		return;
	n->depth -= 1;
	if (primary)
		WRITE_ONCE(n->busy, 0);
}

/* This run's record in `scratch` (a per-CPU array of SCRATCH_SLOTS records);
 * NULL, and counted lost, when nested too deep. */
static __always_inline void *nest_record(void *scratch, __u32 slot)
{
	void *rec = bpf_map_lookup_elem(scratch, &slot);

	if (!rec && slot >= SCRATCH_SLOTS)
		count(COUNTER_LOST); /* nested more than twice */
	return rec;
}

/* In a standby program: whether the kernel skipped the primary for this event. */
static __always_inline bool standby_covers(void)
{
	__u32 zero = 0;
	struct nest_state *n = bpf_map_lookup_elem(&nest, &zero);

	if (!n || !READ_ONCE(n->busy))
		return false;
	count(COUNTER_COVERED);
	return true;
}

#endif
