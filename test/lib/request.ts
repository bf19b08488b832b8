// Requests for unit tests of hooks and decoders: a run-wide RunRequest and
// one KindRequest, defaults plus what the test cares about; and a hook's plan
// with the generic rules applied, as a backend would see it.
import type { KindPlan, RunRequest } from '../../lib/backend.js'
import type { EventKind, KindOptions, KindRequest } from '../../lib/events.js'
import { NO_FILTERS, type Filters } from '../../lib/filters.js'
import { ruleProblem } from '../../lib/plan-rules.js'

export function testRequest(over: Partial<RunRequest> = {}, filters: Partial<Filters> = {}): RunRequest {
  return {
    tool: 'tcpretrans',
    filters: { ...NO_FILTERS, ...filters },
    hookType: 'auto',
    rateLimit: 0,
    bufferKb: 1024,
    debug: false,
    ...over,
  }
}

const DEFAULT_OPTIONS: KindOptions = {
  'tcp-retransmit': { stack: null, includeFailed: false },
  'tcp-synack-retransmit': { stack: null },
  'tcp-loss-probe': { stack: null },
  'tcp-drop': { stack: null, owner: false, hideNotSpecified: false },
  'skb-drop-count': { groupByDev: false },
}

export function kindRequest<K extends EventKind>(
  kind: K,
  over: { options?: Partial<KindOptions[K]>; fields?: KindRequest['fields']; required?: boolean } = {},
): KindRequest<K> {
  return {
    kind,
    required: over.required ?? true,
    fields: over.fields ?? {},
    options: { ...DEFAULT_OPTIONS[kind], ...over.options },
  } as KindRequest<K>
}

/** A hook's plan as the generic rules leave it (usable: false with the reason). */
export function withRules<P extends Omit<KindPlan, 'kind' | 'hookType' | 'hook'>>(
  plan: P,
  request: KindRequest,
  run: RunRequest,
  hook = 'tracepoint hook:under_test',
): P {
  if (!plan.usable) return plan
  const problem = ruleProblem({ kind: request.kind, hookType: null, hook, ...plan }, request, run, 'test')
  return problem === null ? plan : { ...plan, usable: false, reason: problem }
}
