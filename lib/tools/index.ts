// The three tools by name.
import { dropwatch } from './dropwatch.js'
import { tcpdrop } from './tcpdrop.js'
import { tcpretrans } from './tcpretrans.js'

export const TOOLS = { tcpdrop, tcpretrans, dropwatch }

export type ToolName = keyof typeof TOOLS
