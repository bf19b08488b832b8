// dropwatch: interval summaries of where the kernel drops packets (SPEC §6).
// Backends serve `skb-drop-count` (ftrace: one event per kfree_skb line; bpf:
// kernel-aggregated counts through Run.sample()); the output aggregates either.
import { UsageError } from '../errors.js'
import { parseListenAddress } from '../prometheus.js'
import { parseReasonOption } from './reason-option.js'
import { DropwatchOutput, dropwatchBanner } from './dropwatch-output.js'
import type { ToolDefinition } from './tool.js'

export const dropwatch: ToolDefinition = {
  name: 'dropwatch',
  summary: 'Summarize where the kernel drops packets, every interval.',
  tracing: 'dropped packets',
  maxCounts: 'intervals',
  printsEachEvent: () => false,
  perEventTool: false,
  options: {
    interval: { alias: 'i', type: 'number', default: 5, describe: 'print a summary every SECONDS', requiresArg: true, group: 'dropwatch:' },
    addresses: { alias: 'a', type: 'boolean', describe: 'also print raw addresses', group: 'dropwatch:' },
    by: { type: 'string', choices: ['location', 'reason', 'both', 'dev'], default: 'both', describe: 'group drops by', group: 'dropwatch:' },
    top: { type: 'number', describe: 'at most N lines per interval', requiresArg: true, group: 'dropwatch:' },
    reason: { type: 'string', describe: 'only drops with reason NAME (repeatable)', requiresArg: true, group: 'dropwatch:' },
    prometheus: { type: 'string', describe: 'serve OpenMetrics at http://HOST:PORT/metrics', requiresArg: true, group: 'dropwatch:' },
  },
  examples: [
    ['dropwatch', 'drop locations every 5 seconds'],
    ['dropwatch -i 1 --by reason', 'drops by reason every second'],
    ['dropwatch --prometheus 127.0.0.1:9464', 'also serve /metrics'],
  ],
  banner: dropwatchBanner,
  validate(args, common) {
    const i = args.interval
    if (typeof i !== 'number' || !Number.isFinite(i) || i <= 0) throw new UsageError(`--interval: needs a positive number, not "${String(i)}"`)
    const top = args.top
    if (top !== undefined && (typeof top !== 'number' || !Number.isInteger(top) || top < 1)) {
      throw new UsageError(`--top: needs an integer >= 1, not "${String(top)}"`)
    }
    if (typeof args.prometheus === 'string') parseListenAddress(args.prometheus)
    // Reason names are checked against the running kernel by the backend (exit 4 if unknown there).
    common.filters.reasons = parseReasonOption(args)
  },
  kinds: () => [{ kind: 'skb-drop-count', required: true }],
  allKinds: () => [{ kind: 'skb-drop-count', required: true }],
  fields: (args) => (args.by === 'dev' ? ['dev'] : []),
  includeFailed: () => false,
  intervalSeconds: (args) => (typeof args.interval === 'number' ? args.interval : null),
  createOutput: (ctx) => new DropwatchOutput(ctx),
}
