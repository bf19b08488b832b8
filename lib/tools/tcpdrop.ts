// tcpdrop: TCP segments the kernel dropped, with reason, state, flags, stack
// (SPEC §4). The options are final; no backend serves `tcp-drop` yet, so a run
// ends with exit 4 naming, per backend, why.
import { RuntimeError } from '../errors.js'
import type { ToolDefinition } from './tool.js'

export const tcpdrop: ToolDefinition = {
  name: 'tcpdrop',
  summary: 'Trace TCP segments dropped by the kernel, with reason, TCP state, flags and kernel stack.',
  tracing: 'TCP drops',
  maxCounts: 'events',
  perEventTool: true,
  options: {
    reason: { type: 'string', describe: 'only drops with reason NAME (repeatable)', requiresArg: true, group: 'tcpdrop:' },
    'all-reasons': { type: 'boolean', describe: 'also show drops with reason NOT_SPECIFIED', group: 'tcpdrop:' },
    'no-stack': { type: 'boolean', describe: 'do not print kernel stacks', group: 'tcpdrop:' },
    'stack-depth': { type: 'number', default: 16, describe: 'at most N stack frames', requiresArg: true, group: 'tcpdrop:' },
    'stack-rate': { type: 'number', default: 1000, describe: 'take stacks for at most N events/s', requiresArg: true, group: 'tcpdrop:' },
    owner: { type: 'boolean', describe: 'add the process owning the socket', group: 'tcpdrop:' },
  },
  examples: [
    ['tcpdrop', 'trace TCP drops with reasons and stacks'],
    ['tcpdrop --no-stack -4 --port 443', 'IPv4 drops on port 443, no stacks'],
    ['tcpdrop --reason NO_SOCKET -j', 'only NO_SOCKET drops, as JSON Lines'],
  ],
  validate() {},
  kinds: () => [{ kind: 'tcp-drop', required: true }],
  allKinds: () => [{ kind: 'tcp-drop', required: true }],
  fields: (args) => (args['no-stack'] ? [] : ['stack']),
  includeFailed: () => false,
  intervalSeconds: () => null,
  createOutput() {
    throw new RuntimeError('tcpdrop output is not implemented yet')
  },
}
