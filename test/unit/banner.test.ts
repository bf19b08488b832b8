import t from 'tap'
import type { BackendReport, KindPlan } from '../../lib/backend.js'
import { bannerLines } from '../../lib/cli/banner.js'
import type { KindRequest } from '../../lib/events.js'
import type { ToolDefinition } from '../../lib/tools/tool.js'

const tool = { tracing: 'TCP retransmits' } as ToolDefinition<unknown>
const synack: KindPlan = {
  kind: 'tcp-synack-retransmit',
  usable: true,
  reason: null,
  hookType: 'tracepoint',
  hook: 'tracepoint tcp:tcp_retransmit_synack',
  fields: ['pid'],
  filters: {},
  cannotSee: ['whether it was sent'],
  cannotSeeOf: { seq: 'sequence numbers of SYN-ACKs' },
}
const report = { backend: 'bpf', usable: true, reason: null, kinds: [synack] } as unknown as BackendReport
const request = (fields: KindRequest['fields']): KindRequest[] => [{ kind: 'tcp-retransmit', required: true, fields, options: { stack: null, includeFailed: false } }]

t.test('what a hook cannot see of a field is said only when the run asks for that field', async (t) => {
  t.same(bannerLines(tool, report, request({})), ['Tracing TCP retransmits via bpf (tracepoint tcp:tcp_retransmit_synack). Ctrl-C to end.', 'Not seen by bpf: whether it was sent'])
  t.same(bannerLines(tool, report, request({ seq: '--seq' }))[1], 'Not seen by bpf: whether it was sent; sequence numbers of SYN-ACKs')
})
