// Parser for the text lines of trace_pipe. It never throws: a line it cannot
// read gives null and the caller counts it. Handles comms with spaces or
// dashes, `<...>` (comm not saved), optional tgid and irq-flag columns, the
// `<stack trace>` entry of the stacktrace option with its ` => ` frames, and
// the `CPU:N [LOST M EVENTS]` notices.

export type TraceLine =
  | { type: 'event'; comm: string; pid: number; cpu: number; tsNs: bigint; event: string; body: string }
  | { type: 'stack-start'; cpu: number; pid: number; tsNs: bigint }
  | { type: 'frame'; frame: string }
  | { type: 'lost'; cpu: number; count: number }

// comm-pid [(tgid)] [cpu] [irq flags] seconds.fraction: rest
const HEAD_RE = /^\s*(.*)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(\d{1,5})\]\s+(?:[.a-zA-Z0-9]{4,5}\s+)?(\d+)\.(\d{1,9}):\s(.*)$/
const EVENT_RE = /^([A-Za-z0-9_.-]+):\s?(.*)$/
const FRAME_RE = /^\s*=> (\S.*)$/
const LOST_RE = /^CPU:(\d+) \[LOST (\d+) EVENTS\]$/

export function parseTraceLine(line: string): TraceLine | null {
  const frame = FRAME_RE.exec(line)
  if (frame) return { type: 'frame', frame: (frame[1] ?? '').trimEnd() }
  const lost = LOST_RE.exec(line)
  if (lost) return { type: 'lost', cpu: Number(lost[1]), count: Number(lost[2]) }
  const head = HEAD_RE.exec(line)
  if (!head) return null
  const pid = Number(head[2])
  const cpu = Number(head[3])
  const tsNs = BigInt(head[4] ?? '0') * 1_000_000_000n + BigInt((head[5] ?? '').padEnd(9, '0'))
  const rest = head[6] ?? ''
  if (rest.trimEnd() === '<stack trace>') return { type: 'stack-start', cpu, pid, tsNs }
  const ev = EVENT_RE.exec(rest)
  if (!ev) return null
  return { type: 'event', comm: head[1] ?? '', pid, cpu, tsNs, event: ev[1] ?? '', body: ev[2] ?? '' }
}

/** `key=value key=value` bodies (values without spaces) into a map. */
export function parseKeyValues(body: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const token of body.split(' ')) {
    const eq = token.indexOf('=')
    if (eq > 0) out.set(token.slice(0, eq), token.slice(eq + 1))
  }
  return out
}
