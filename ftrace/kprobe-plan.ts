// Planning the ftrace backend's kprobe hooks on this kernel: is kprobe_events
// there, can the function be probed (kallsyms, available_filter_functions),
// and does struct sock_common have the offsets the fetch-args assume (BTF).
import { existsSync } from 'node:fs'
import type { HookTypeStatus, KindPlan } from '../lib/backend.js'
import type { KindRequest } from '../lib/events.js'
import type { KprobeHook } from './hooks/kprobe-hook.js'
import { runningSockCommonLayout } from './hooks/sock-common-args.js'
import { kprobeTargetProblem, readSymbolSources } from '../lib/kernel/kprobe-target.js'

export function kprobeHookStatus(tracefs: string): HookTypeStatus {
  if (!existsSync(`${tracefs}/kprobe_events`)) return { usable: false, reason: `${tracefs}/kprobe_events missing (CONFIG_KPROBE_EVENTS off)` }
  return { usable: true, reason: null }
}

/** The kprobe plan for a kind: usable with fields/filters, or the reason it is not. */
export function planKprobe<K extends KindRequest['kind']>(hook: KprobeHook<K>, request: KindRequest<K>, tracefs: string): KindPlan {
  const name = `kprobe ${hook.symbol}`
  const unusable = (reason: string): KindPlan => ({ kind: request.kind, usable: false, reason, hookType: 'kprobe', hook: name, fields: [], filters: {}, cannotSee: [] })
  const problem = kprobeTargetProblem(hook.symbol, readSymbolSources(tracefs))
  if (problem) return unusable(`${name}: ${problem}`)
  const layout = runningSockCommonLayout()
  if (!layout.ok) return unusable(`${name}: ${layout.reason}`)
  const plan = hook.plan(request, { layout: layout.layout })
  return { kind: request.kind, hookType: 'kprobe', hook: name, ...plan }
}
