// Kernel stack frames as users want to read them: `func+0xoff`, with the
// frames of the tracing machinery itself removed (they say nothing about why
// the event happened), at most `depth` frames.

const TRACING_FRAME = /^(trace_event_raw_event_|perf_trace_|__traceiter_|__bpf_trace_|bpf_trace_run\d|bpf_prog_|trace_call_bpf|__trace_|ftrace_|kprobe_|__kprobes_|sk_skb_reason_drop\b)/

/** `tcp_ack+0xaf7/0x14d0` → `tcp_ack+0xaf7` (the function size adds nothing). */
export function cleanFrame(frame: string): string {
  return frame.replace(/(\+0x[0-9a-f]+)\/0x[0-9a-f]+/, '$1').trim()
}

export function isTracingFrame(frame: string): boolean {
  return TRACING_FRAME.test(frame)
}

export function userFacingStack(frames: readonly string[], depth: number): string[] {
  const out: string[] = []
  for (const raw of frames) {
    const frame = cleanFrame(raw)
    if (out.length === 0 && isTracingFrame(frame)) continue
    out.push(frame)
    if (out.length >= depth) break
  }
  return out
}
