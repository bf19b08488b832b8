// An OutputContext for output unit tests: a fixed text clock (HH:MM:SS), and
// stdout/stderr collected as strings.
import type { CommonOptions } from '../../lib/cli/common-options.js'
import { NO_FILTERS } from '../../lib/filters.js'
import { EventClock } from '../../lib/format/clock.js'
import type { OutputContext, ToolArgs } from '../../lib/tools/tool.js'

export function commonOptions(json = false): CommonOptions {
  return {
    backend: 'auto',
    hookType: 'auto',
    listBackends: false,
    durationS: null,
    maxEvents: null,
    json,
    filters: NO_FILTERS,
    quiet: false,
    debug: false,
    rateLimit: 0,
    bufferKb: 4096,
    allowSysctl: false,
  }
}

export interface CapturedContext {
  ctx: OutputContext
  /** Everything written to stdout so far. */
  out(): string
  /** Everything noted on stderr so far. */
  notes(): string
}

/** Every event prints at `hms` (default 08:11:49), whatever its ts_ns. */
export function captureContext(args: ToolArgs, opts: { json?: boolean; hms?: string } = {}): CapturedContext {
  let out = ''
  let notes = ''
  const clock = new EventClock()
  const hms = opts.hms ?? '08:11:49'
  clock.hms = () => hms
  const ctx: OutputContext = {
    common: commonOptions(opts.json),
    args,
    backend: 'bpf',
    clock,
    out: (s) => (out += s),
    note: (s) => (notes += s),
  }
  return { ctx, out: () => out, notes: () => notes }
}
