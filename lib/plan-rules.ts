// The rules every hook's plan obeys, whatever the backend (SPEC §2): a field
// the run prints that the hook cannot fill, a --reason name the kernel does
// not know, or a filter the hook cannot apply makes the hook unusable, with
// the reason said. Hooks only describe what they can do; the rules live here.
import type { BackendReport, KindPlan, RunRequest } from './backend.js'
import { settleUsable } from './backend.js'
import type { KindRequest, OptionalField } from './events.js'
import { FILTER_OPTION, requestedFilters } from './filters.js'

/** What each optional field is, for `--seq: tcp:x has no sequence-number field`. */
const FIELD_NOUN: Record<OptionalField, string> = {
  seq: 'sequence-number',
  err: 'err',
  stack: 'stack',
  netns: 'network-namespace',
  comm: 'command-name',
  state: 'TCP-state',
  dev: 'device',
}

/** `tracepoint skb:kfree_skb` → `skb:kfree_skb`; kprobes keep their type. */
function hookName(plan: KindPlan): string {
  return (plan.hook ?? 'no hook').replace(/^tracepoint /, '')
}

function fieldProblem(plan: KindPlan, request: KindRequest): string | null {
  for (const [field, option] of Object.entries(request.fields) as Array<[OptionalField, string]>) {
    if (plan.fields.includes(field)) continue
    const note = plan.fieldNotes?.[field]
    return `${option}: ${hookName(plan)} has no ${FIELD_NOUN[field]} field${note ? ` ${note}` : ''}`
  }
  return null
}

function reasonProblem(plan: KindPlan, run: RunRequest): string | null {
  if (run.filters.reasons.length === 0 || !plan.reasons || plan.filters.reason === 'none') return null
  const table = plan.reasons()
  const unknown = run.filters.reasons.filter((r) => table.code(r) === null)
  if (unknown.length === 0) return null
  const known = table.names()
  const some = known.length ? ` (${table.source}: ${known.slice(0, 8).join(', ')}${known.length > 8 ? ', …' : ''})` : ''
  return `--reason ${unknown.join(', ')}: not a drop reason of this kernel${some}`
}

function filterProblem(plan: KindPlan, run: RunRequest, backend: string): string | null {
  for (const f of requestedFilters(run.filters)) {
    const place = plan.filters[f]
    if (place === 'kernel' || place === 'user') continue
    return `${FILTER_OPTION[f]} cannot be applied by ${backend} (${plan.hook ?? 'no hook'})`
  }
  return null
}

/** Why a usable plan cannot serve this request after all (or null). Backends
 *  that choose between hooks of one kind ask this before settling on one. */
export function ruleProblem(plan: KindPlan, request: KindRequest, run: RunRequest, backend: string): string | null {
  return fieldProblem(plan, request) ?? reasonProblem(plan, run) ?? filterProblem(plan, run, backend)
}

/** Applies the rules to each usable plan, then settles the report's own usability. */
export function applyPlanRules(report: BackendReport, run: RunRequest, kinds: readonly KindRequest[]): BackendReport {
  for (const plan of report.kinds) {
    const request = kinds.find((k) => k.kind === plan.kind)
    if (!plan.usable || !request) continue
    const problem = ruleProblem(plan, request, run, report.backend)
    if (problem === null) continue
    plan.usable = false
    plan.reason = problem
  }
  // A report the backend already refused keeps its own reason.
  return report.usable ? settleUsable(report, kinds) : report
}
