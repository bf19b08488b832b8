// --reason NAME (repeatable), shared by tcpdrop and dropwatch: names are taken
// with or without SKB_DROP_REASON_, in any case; whether the running kernel
// knows them is the backend's question (exit 4 there), the shape is ours (exit 2).
import { UsageError } from '../errors.js'
import { textList, type OptionSpec } from '../cli/option-spec.js'

export function reasonName(text: string): string {
  const name = text.trim().toUpperCase().replace(/^SKB_DROP_REASON_/, '')
  if (!/^[A-Z0-9_]+$/.test(name)) throw new UsageError(`--reason: needs a drop-reason name such as NO_SOCKET, not "${name}"`)
  return name
}

export function reasonOption(group: string): OptionSpec<string[]> {
  return textList('reason', { describe: 'only drops with reason NAME (repeatable)', group }, reasonName)
}
