// From parsed arguments to what a run is made of: the common options, the
// tool's typed options, the run-wide request and one request per event kind.
import type { RunRequest } from '../backend.js'
import type { KindRequest } from '../events.js'
import { readOptions } from './option-spec.js'
import type { ToolDefinition } from '../tools/tool.js'
import { parseCommonOptions, type CommonOptions } from './common-options.js'

export interface ToolSetup<O> {
  common: CommonOptions
  options: O
  run: RunRequest
  /** The kinds this run traces. */
  kinds: KindRequest[]
}

export function toolSetup<O>(tool: ToolDefinition<O>, args: Record<string, unknown>): ToolSetup<O> {
  const common = parseCommonOptions(args, tool.perEventTool)
  const options = readOptions(tool.options, args)
  tool.check?.(options)
  const filters = { ...common.filters, ...tool.filters?.(options) }
  return {
    common: { ...common, filters },
    options,
    run: {
      tool: tool.name,
      filters,
      hookType: common.hookType,
      rateLimit: tool.printsEachEvent(options) ? common.rateLimit : 0,
      bufferKb: common.bufferKb,
      debug: common.debug,
    },
    kinds: tool.requests(options, false),
  }
}
