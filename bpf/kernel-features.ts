// What the running kernel offers the bpf backend, found by detection (BTF,
// sysfs), never by version string: tracepoint prototypes from BTF (their
// argument count tells the 6.17 tcp_retransmit_skb change, reason and rx_sk
// of kfree_skb), kprobe support, ring buffer support.
import { existsSync, statSync } from 'node:fs'
import { Btf } from '../lib/kernel/btf.js'
import { DropReasons } from '../lib/kernel/drop-reasons.js'
import { kprobeTargetProblem, readSymbolSources } from '../lib/kernel/kprobe-target.js'
import type { Libbpf } from './libbpf.js'

export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux'
const KPROBE_PMU = '/sys/bus/event_source/devices/kprobe'

export class KernelFeatures {
  readonly #lib: Libbpf
  readonly #args = new Map<string, number | null>()
  #reasons: DropReasons | null = null
  /** The kernel's BTF (~5 MB), read once for start-up questions, dropped after. */
  #btf: Btf | null | undefined

  constructor(lib: Libbpf) {
    this.#lib = lib
  }

  /** Arguments of tp_btf/<event> (without the context pointer); null when absent. */
  tracepointArgs(event: string): number | null {
    if (!this.#args.has(event)) this.#args.set(event, this.#vmlinux()?.tracepointArgs(event) ?? null)
    return this.#args.get(event) ?? null
  }

  #vmlinux(): Btf | null {
    if (this.#btf === undefined) {
      try {
        const bytes = this.#copiedBtf()
        this.#btf = bytes ? new Btf(bytes, VMLINUX_BTF) : Btf.load(VMLINUX_BTF)
      } catch {
        this.#btf = null // the backend's probe says why BTF is missing
      }
    }
    return this.#btf
  }

  /** The kernel BTF by one bpf() copy (faster than the file's 4 KiB reads), or null: read the file. */
  #copiedBtf(): Buffer | null {
    try {
      return this.#lib.vmlinuxBtf(statSync(VMLINUX_BTF).size)
    } catch {
      return null // no file (no BTF: the file read says so), or the call failed
    }
  }

  /** Start-up questions are answered (answers stay cached): let the BTF bytes go. */
  releaseBtf(): void {
    if (this.#btf) this.#btf = undefined
  }

  /** How records reach user space: a BPF ring buffer (5.8+), else a perf buffer.
   *  NETDROP_BPF_BUFFER=perf forces the perf buffer (to test the old-kernel path). */
  eventBuffer(): 'ring' | 'perf' {
    if (process.env.NETDROP_BPF_BUFFER === 'perf') return 'perf'
    return this.#lib.ringBufferSupported() ? 'ring' : 'perf'
  }

  /** Drop-reason names of this kernel (BTF enum skb_drop_reason). */
  dropReasons(): DropReasons {
    this.#reasons ??= DropReasons.load({ btf: this.#vmlinux() ?? undefined })
    return this.#reasons
  }

  /** BPF kprobes attach through the kprobe PMU (or tracefs kprobe_events). */
  get kprobes(): { usable: boolean; reason: string | null } {
    if (existsSync(KPROBE_PMU) || existsSync('/sys/kernel/tracing/kprobe_events') || existsSync('/sys/kernel/debug/tracing/kprobe_events')) {
      return { usable: true, reason: null }
    }
    return { usable: false, reason: 'this kernel has no kprobes (CONFIG_KPROBES off)' }
  }

  /** Can a BPF kprobe go on kernel function `fn` (kprobes, and `fn` out of line, traceable, not blacklisted)? */
  kprobeTarget(fn: string): { usable: boolean; reason: string | null } {
    const kp = this.kprobes
    if (!kp.usable) return kp
    const problem = kprobeTargetProblem(fn, readSymbolSources('/sys/kernel/tracing'))
    return problem ? { usable: false, reason: problem } : { usable: true, reason: null }
  }
}
