// The three tools by name.
import { dropwatch } from './dropwatch.js'
import { tcpdrop } from './tcpdrop.js'
import { tcpretrans } from './tcpretrans.js'
import type { ToolDefinition } from './tool.js'

export type ToolName = 'tcpdrop' | 'tcpretrans' | 'dropwatch'

export const TOOLS: Record<ToolName, ToolDefinition> = { tcpdrop, tcpretrans, dropwatch }
