// tcpdrop: TCP segments the kernel dropped, with reason, state, flags, stack
// (SPEC §4).
import { DEFAULT_STACK_DEPTH } from '../events.js'
import { flag, integer, type OptionSpecs } from '../cli/option-spec.js'
import { reasonOption } from './reason-option.js'
import { TcpdropOutput } from './tcpdrop-output.js'
import type { ToolDefinition } from './tool.js'

export interface TcpdropOptions {
  reasons: string[]
  allReasons: boolean
  noStack: boolean
  stackDepth: number
  stackRate: number
  owner: boolean
}

const group = 'tcpdrop:'

const options: OptionSpecs<TcpdropOptions> = {
  reasons: reasonOption(group),
  allReasons: flag('all-reasons', { describe: 'also show drops with reason NOT_SPECIFIED', group }),
  noStack: flag('no-stack', { describe: 'do not print kernel stacks', group }),
  stackDepth: integer('stack-depth', { min: 1, max: 32 }, { default: DEFAULT_STACK_DEPTH, describe: 'at most N stack frames', group }),
  stackRate: integer('stack-rate', { min: 0, max: 1_000_000 }, { default: 1000, describe: 'take stacks for at most N events/s', group }),
  owner: flag('owner', { describe: 'add the process owning the socket', group }),
}

export const tcpdrop: ToolDefinition<TcpdropOptions> = {
  name: 'tcpdrop',
  summary: 'Trace TCP segments dropped by the kernel, with reason, TCP state, flags and kernel stack.',
  tracing: 'TCP drops',
  maxCounts: 'events',
  perEventTool: true,
  options,
  examples: [
    ['tcpdrop', 'trace TCP drops with reasons and stacks'],
    ['tcpdrop --no-stack -4 --port 443', 'IPv4 drops on port 443, no stacks'],
    ['tcpdrop --reason NO_SOCKET -j', 'only NO_SOCKET drops, as JSON Lines'],
  ],
  filters: (o) => ({ reasons: o.reasons }),
  printsEachEvent: () => true,
  requests: (o) => [
    {
      kind: 'tcp-drop',
      required: true,
      fields: o.noStack ? {} : { stack: 'stacks' },
      options: {
        stack: o.noStack ? null : { depth: o.stackDepth, rate: o.stackRate },
        owner: o.owner,
        // NOT_SPECIFIED is hidden (and counted) unless asked for, by --all-reasons or by name.
        hideNotSpecified: !o.allReasons && o.reasons.length === 0,
      },
    },
  ],
  intervalSeconds: () => null,
  createOutput: (ctx) => new TcpdropOutput(ctx),
}
