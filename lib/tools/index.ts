// The three tools by name, each imported on demand: a run loads its own tool's
// modules only (each tool's output, parsing and counters are a few ms of start-up).
import type { ToolDefinition } from './tool.js'

const LOADERS = {
  tcpdrop: async () => (await import('./tcpdrop.js')).tcpdrop,
  tcpretrans: async () => (await import('./tcpretrans.js')).tcpretrans,
  dropwatch: async () => (await import('./dropwatch.js')).dropwatch,
}

export type ToolName = keyof typeof LOADERS

export const TOOL_NAMES = Object.keys(LOADERS) as ToolName[]

export async function loadTool(name: ToolName): Promise<ToolDefinition<unknown>> {
  return (await LOADERS[name]()) as ToolDefinition<unknown>
}
