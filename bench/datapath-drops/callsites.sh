#!/bin/sh
# Lists the __kfree_skb call and tail-call sites of a kernel build whose
# preceding instructions bump sk->sk_drops (inlined tcp_drop(): sk_drops_add()
# then __kfree_skb()). Host side, with the guest's vmlinux and /proc/kallsyms:
#   sh callsites.sh ~/.cache/legacy-vm/kernels/5.10/vmlinux kallsyms.txt 0xa8
# (0xa8 = offsetof(struct sock, sk_drops) on Debian 5.10, from BTF).
# The output still needs reading: a tail call (jmp) whose epilogue is shared
# with another free shows the lock add tens of bytes earlier (callsites.txt).
set -eu
VMLINUX=$1 KALLSYMS=$2 DROPS_OFF=$3
KFREE=$(awk '$3=="__kfree_skb"{print $1}' "$KALLSYMS")
START=$(awk '$3=="tcp_prune_ofo_queue"{print $1}' "$KALLSYMS")
END=$(awk '$3=="tcp_v6_rcv"{print $1}' "$KALLSYMS")
objdump -d --no-show-raw-insn --start-address=0x$START --stop-address=0x$END "$VMLINUX" |
  grep -B12 -E "(call|jmp) +0x$KFREE" | grep -E "lock add .*,$DROPS_OFF\(|(call|jmp) +0x$KFREE"
