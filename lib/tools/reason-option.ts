// --reason NAME (repeatable), shared by tcpdrop and dropwatch: names are taken
// with or without SKB_DROP_REASON_, in any case; whether the running kernel
// knows them is the backend's question (exit 4 there), the shape is ours (exit 2).
import { UsageError } from '../errors.js'
import type { ToolArgs } from './tool.js'

export function reasonNames(args: ToolArgs): string[] {
  const v = args.reason
  const list = v === undefined ? [] : Array.isArray(v) ? v : [v]
  return list.map((r) => String(r).trim().toUpperCase().replace(/^SKB_DROP_REASON_/, ''))
}

/** Checks the names and returns them for Filters.reasons. */
export function parseReasonOption(args: ToolArgs): string[] {
  const reasons = reasonNames(args)
  const bad = reasons.find((r) => !/^[A-Z0-9_]+$/.test(r))
  if (bad !== undefined) throw new UsageError(`--reason: needs a drop-reason name such as NO_SOCKET, not "${bad}"`)
  return reasons
}
