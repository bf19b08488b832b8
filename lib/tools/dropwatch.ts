// dropwatch: interval summaries of where the kernel drops packets (SPEC §6).
// Backends serve `skb-drop-count` (ftrace: one event per kfree_skb line; bpf:
// kernel-aggregated counts through Run.sample()); the output aggregates either.
import { choice, flag, optionalInteger, optionalText, seconds, type OptionSpecs } from '../cli/option-spec.js'
import { parseListenAddress, type ListenAddress } from '../prometheus.js'
import { reasonOption } from './reason-option.js'
import { DropwatchOutput, dropwatchBanner, type GroupBy } from './dropwatch-output.js'
import type { ToolDefinition } from './tool.js'

export interface DropwatchOptions {
  interval: number
  addresses: boolean
  by: GroupBy
  top: number | null
  reasons: string[]
  prometheus: ListenAddress | null
}

const group = 'dropwatch:'

const options: OptionSpecs<DropwatchOptions> = {
  interval: seconds('interval', { alias: 'i', default: 5, describe: 'print a summary every SECONDS', group }),
  addresses: flag('addresses', { alias: 'a', describe: 'also print raw addresses', group }),
  by: choice<GroupBy>('by', ['location', 'reason', 'both', 'dev'], { default: 'both', describe: 'group drops by', group }),
  top: optionalInteger('top', { min: 1 }, { describe: 'at most N lines per interval', group }),
  // Reason names are checked against the running kernel by the backend (exit 4 if unknown there).
  reasons: reasonOption(group),
  prometheus: {
    ...optionalText('prometheus', { describe: 'serve OpenMetrics at http://HOST:PORT/metrics', group }),
    read: (v) => (v === undefined ? null : parseListenAddress(String(v))),
  },
}

export const dropwatch: ToolDefinition<DropwatchOptions> = {
  name: 'dropwatch',
  summary: 'Summarize where the kernel drops packets, every interval.',
  tracing: 'dropped packets',
  maxCounts: 'intervals',
  perEventTool: false,
  options,
  examples: [
    ['dropwatch', 'drop locations every 5 seconds'],
    ['dropwatch -i 1 --by reason', 'drops by reason every second'],
    ['dropwatch --prometheus 127.0.0.1:9464', 'also serve /metrics'],
  ],
  banner: dropwatchBanner,
  filters: (o) => ({ reasons: o.reasons }),
  printsEachEvent: () => false,
  requests: (o) => [
    { kind: 'skb-drop-count', required: true, fields: o.by === 'dev' ? { dev: '--by dev' } : {}, options: { groupByDev: o.by === 'dev' } },
  ],
  intervalSeconds: (o) => o.interval,
  createOutput: (ctx) => new DropwatchOutput(ctx),
}
