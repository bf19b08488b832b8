/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The few kernel types the programs read, declared by hand for CO-RE instead
 * of a multi-megabyte vmlinux.h. preserve_access_index makes every field
 * access a BTF relocation: libbpf finds each field by name in the running
 * kernel's BTF (descending into anonymous unions/structs), so offsets and
 * layout changes between kernels do not matter. Only names must exist.
 */
#ifndef NETDROP_KERNEL_TYPES_H
#define NETDROP_KERNEL_TYPES_H

#include <linux/types.h>
#include <linux/bpf.h>
#include <stdbool.h>
#include <stddef.h>

#define __pai __attribute__((preserve_access_index))

/* Tells bpf_tracing.h to use the kernel's pt_regs field names (di, si, …). */
#define __VMLINUX_H__

struct ns_common {
	unsigned int inum;
} __pai;

struct net {
	struct ns_common ns;
} __pai;

typedef struct {
	struct net *net;
} possible_net_t;

struct in6_addr {
	union {
		__u8 u6_addr8[16];
	} in6_u;
} __pai;

/* The part of every socket (full, request, timewait) that lives at its start. */
struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	volatile unsigned char skc_state;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __pai;

struct inode {
	unsigned long i_ino;
} __pai;

struct file {
	struct inode *f_inode;
} __pai;

struct socket {
	struct file *file;
} __pai;

/* sk_protocol and sk_type were bitfields before 5.6: read them with
 * BPF_CORE_READ_BITFIELD_PROBED, which handles both layouts. */
struct sock {
	struct sock_common __sk_common;
	__u16 sk_protocol;
	__u16 sk_type;
	struct socket *sk_socket;
} __pai;

struct request_sock {
	struct sock_common __req_common;
} __pai;

struct net_device {
	char name[16];
	int ifindex;
	possible_net_t nd_net;
} __pai;

struct sk_buff {
	struct sock *sk;
	struct net_device *dev;
	char cb[48];
	__u16 transport_header;
	__u16 network_header;
	__be16 protocol;
	int skb_iif;
	unsigned char *head;
} __pai;

/* TCP's view of skb->cb: tcp_gso_segs is what tcp_skb_pcount() returns. */
struct tcp_skb_cb {
	__u32 seq;
	__u32 end_seq;
	union {
		struct {
			__u16 tcp_gso_segs;
			__u16 tcp_gso_size;
		};
	};
} __pai;

/* x86_64 registers for kprobes (BPF_KPROBE reads them through CO-RE). */
struct pt_regs {
	unsigned long r15, r14, r13, r12, bp, bx, r11, r10, r9, r8;
	unsigned long ax, cx, dx, si, di, orig_ax, ip, cs, flags, sp, ss;
} __pai;

#endif
