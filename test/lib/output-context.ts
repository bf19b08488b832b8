// An OutputContext for output unit tests: a fixed text clock (HH:MM:SS), and
// stdout/stderr collected as strings.
import type { CommonOptions } from '../../lib/cli/common-options.js'
import { NO_FILTERS } from '../../lib/filters.js'
import { EventClock } from '../../lib/format/clock.js'
import { buildParser } from '../../lib/cli/parse-args.js'
import { readOptions } from '../../lib/cli/option-spec.js'
import type { OutputContext, ToolDefinition } from '../../lib/tools/tool.js'

/** A tool's typed options as the CLI makes them from these arguments. */
export function optionsFor<O>(tool: ToolDefinition<O>, argv: string[]): O {
  return readOptions(tool.options, buildParser(tool, argv).parseSync() as Record<string, unknown>)
}

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

export interface CapturedContext<O> {
  ctx: OutputContext<O>
  /** Everything written to stdout so far. */
  out(): string
  /** Everything noted on stderr so far. */
  notes(): string
}

/** Every event prints at `hms` (default 08:11:49), whatever its ts_ns. */
export function captureContext<O>(options: O, opts: { json?: boolean; hms?: string; unseenCounters?: string[] } = {}): CapturedContext<O> {
  let out = ''
  let notes = ''
  const clock = new EventClock()
  const hms = opts.hms ?? '08:11:49'
  clock.hms = () => hms
  const ctx: OutputContext<O> = {
    common: commonOptions(opts.json),
    options,
    backend: 'bpf',
    clock,
    out: (s) => (out += s),
    note: (s) => (notes += s),
    unseenCounters: new Set(opts.unseenCounters ?? []),
  }
  return { ctx, out: () => out, notes: () => notes }
}
