// dropwatch: interval summaries of where the kernel drops packets (SPEC §6).
// The options are final; no backend serves `skb-drop-count` yet, so a run ends
// with exit 4 naming, per backend, why.
import { RuntimeError } from '../errors.js'
import type { ToolDefinition } from './tool.js'

export const dropwatch: ToolDefinition = {
  name: 'dropwatch',
  summary: 'Summarize where the kernel drops packets, every interval.',
  tracing: 'dropped packets',
  maxCounts: 'intervals',
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
  validate() {},
  kinds: () => [{ kind: 'skb-drop-count', required: true }],
  allKinds: () => [{ kind: 'skb-drop-count', required: true }],
  fields: () => [],
  includeFailed: () => false,
  intervalSeconds: (args) => (typeof args.interval === 'number' ? args.interval : null),
  createOutput() {
    throw new RuntimeError('dropwatch output is not implemented yet')
  },
}
