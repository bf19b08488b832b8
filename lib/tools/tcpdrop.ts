// tcpdrop: TCP segments the kernel dropped, with reason, state, flags, stack
// (SPEC §4).
import { UsageError } from '../errors.js'
import { parseReasonOption, reasonNames } from './reason-option.js'
import { TcpdropOutput } from './tcpdrop-output.js'
import type { ToolDefinition } from './tool.js'

export const tcpdrop: ToolDefinition = {
  name: 'tcpdrop',
  summary: 'Trace TCP segments dropped by the kernel, with reason, TCP state, flags and kernel stack.',
  tracing: 'TCP drops',
  maxCounts: 'events',
  printsEachEvent: () => true,
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
  validate(args, common) {
    common.filters.reasons = parseReasonOption(args)
    for (const name of ['stack-depth', 'stack-rate'] as const) {
      const n = args[name]
      const max = name === 'stack-depth' ? 32 : 1_000_000
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max || (name === 'stack-depth' && n < 1)) {
        throw new UsageError(`--${name}: needs an integer from ${name === 'stack-depth' ? 1 : 0} to ${max}, not "${String(n)}"`)
      }
    }
  },
  hidesNotSpecified: (args) => !args['all-reasons'] && reasonNames(args).length === 0,
  kinds: () => [{ kind: 'tcp-drop', required: true }],
  allKinds: () => [{ kind: 'tcp-drop', required: true }],
  fields: (args) => (args['no-stack'] ? [] : ['stack']),
  includeFailed: () => false,
  intervalSeconds: () => null,
  createOutput: (ctx) => new TcpdropOutput(ctx),
}
