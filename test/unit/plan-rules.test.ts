import t from 'tap'
import type { BackendReport, KindPlan, ReasonTable } from '../../lib/backend.js'
import type { KindRequest, OptionalField } from '../../lib/events.js'
import { applyPlanRules, ruleProblem } from '../../lib/plan-rules.js'
import { fakeReport, usablePlan } from '../lib/fake-backend.js'
import { kindRequest, testRequest } from '../lib/request.js'

// The generic rules (SPEC §2): a field the run prints that the hook cannot
// fill, a --reason the kernel does not know, a filter the hook cannot apply.

const ALL_FIELDS: OptionalField[] = ['seq', 'err', 'stack', 'netns', 'comm', 'state', 'dev']

const retransmitPlan = (over: Partial<KindPlan> = {}) => usablePlan('tcp-retransmit', { hook: 'tracepoint tcp:tcp_retransmit_skb', ...over })

function reasonTable(names: string[], source = 'btf'): ReasonTable {
  return { source, names: () => [...names], code: (name) => (names.includes(name) ? names.indexOf(name) + 2 : null) }
}

t.test('field rule: OPTION: HOOK has no NOUN field, with the plan\'s note', async (t) => {
  const nouns: Record<OptionalField, string> = {
    seq: 'sequence-number',
    err: 'err',
    stack: 'stack',
    netns: 'network-namespace',
    comm: 'command-name',
    state: 'TCP-state',
    dev: 'device',
  }
  for (const field of ALL_FIELDS) {
    const plan = retransmitPlan({ fields: ALL_FIELDS.filter((f) => f !== field) })
    const request = kindRequest('tcp-retransmit', { fields: { [field]: `--opt-${field}` } })
    t.equal(ruleProblem(plan, request, testRequest(), 'bpf'), `--opt-${field}: tcp:tcp_retransmit_skb has no ${nouns[field]} field`, field)
    t.equal(ruleProblem(retransmitPlan(), request, testRequest(), 'bpf'), null, `${field} present: no problem`)
  }

  const noted = retransmitPlan({ fields: ['seq'], fieldNotes: { err: '(added in 6.17)' } })
  t.equal(
    ruleProblem(noted, kindRequest('tcp-retransmit', { fields: { err: '--err' } }), testRequest(), 'ftrace'),
    '--err: tcp:tcp_retransmit_skb has no err field (added in 6.17)',
  )
  // A note for another field says nothing about this one.
  t.equal(
    ruleProblem(noted, kindRequest('tcp-retransmit', { fields: { stack: '-s' } }), testRequest(), 'ftrace'),
    '-s: tcp:tcp_retransmit_skb has no stack field',
  )

  // Only `tracepoint ` is dropped from the hook's name; kprobes keep their type.
  const kprobe = usablePlan('tcp-loss-probe', { hookType: 'kprobe', hook: 'kprobe tcp_send_loss_probe', fields: [] })
  t.equal(ruleProblem(kprobe, kindRequest('tcp-loss-probe', { fields: { stack: '-s' } }), testRequest(), 'ftrace'), '-s: kprobe tcp_send_loss_probe has no stack field')
  const nohook = usablePlan('tcp-loss-probe', { hook: null, fields: [] })
  t.equal(ruleProblem(nohook, kindRequest('tcp-loss-probe', { fields: { stack: '-s' } }), testRequest(), 'ftrace'), '-s: no hook has no stack field')

  // The first missing field of the request is named.
  const two = kindRequest('tcp-retransmit', { fields: { stack: '-s', seq: '--seq' } })
  t.equal(ruleProblem(retransmitPlan({ fields: ['err'] }), two, testRequest(), 'bpf'), '-s: tcp:tcp_retransmit_skb has no stack field')
  t.equal(ruleProblem(retransmitPlan({ fields: ['stack'] }), two, testRequest(), 'bpf'), '--seq: tcp:tcp_retransmit_skb has no sequence-number field')
})

t.test('reason rule: unknown --reason names, the table\'s source and some known names', async (t) => {
  const drop = kindRequest('tcp-drop')
  const names = ['NOT_SPECIFIED', 'NO_SOCKET', 'PKT_TOO_SMALL', 'TCP_CSUM', 'SOCKET_FILTER', 'UDP_CSUM', 'NETFILTER_DROP', 'OTHERHOST', 'IP_CSUM', 'IP_INHDR']
  const plan = usablePlan('tcp-drop', { hook: 'tracepoint skb:kfree_skb', reasons: () => reasonTable(names) })

  const run = testRequest({}, { reasons: ['NO_SOCKET', 'BOGUS', 'ALSO_BOGUS'] })
  t.equal(
    ruleProblem(plan, drop, run, 'bpf'),
    '--reason BOGUS, ALSO_BOGUS: not a drop reason of this kernel (btf: NOT_SPECIFIED, NO_SOCKET, PKT_TOO_SMALL, TCP_CSUM, SOCKET_FILTER, UDP_CSUM, NETFILTER_DROP, OTHERHOST, …)',
  )
  t.equal(ruleProblem(plan, drop, testRequest({}, { reasons: ['NO_SOCKET', 'IP_INHDR'] }), 'bpf'), null, 'known names pass')

  const few = usablePlan('tcp-drop', { hook: 'tracepoint skb:kfree_skb', reasons: () => reasonTable(['NO_SOCKET', 'TCP_CSUM'], 'format') })
  t.equal(ruleProblem(few, drop, testRequest({}, { reasons: ['BOGUS'] }), 'ftrace'), '--reason BOGUS: not a drop reason of this kernel (format: NO_SOCKET, TCP_CSUM)')
  const none = usablePlan('tcp-drop', { hook: 'tracepoint skb:kfree_skb', reasons: () => reasonTable([], 'format') })
  t.equal(ruleProblem(none, drop, testRequest({}, { reasons: ['BOGUS'] }), 'ftrace'), '--reason BOGUS: not a drop reason of this kernel')

  // The table is read only when a --reason was given (reading it can cost a BTF parse).
  let reads = 0
  const counted = usablePlan('tcp-drop', {
    hook: 'tracepoint skb:kfree_skb',
    reasons: () => {
      reads++
      return reasonTable(names)
    },
  })
  t.equal(ruleProblem(counted, drop, testRequest(), 'bpf'), null)
  t.equal(reads, 0, 'no --reason: table not read')

  // Skipped when the plan does not apply --reason at all: the filter rule says so instead.
  const unapplied = usablePlan('tcp-drop', { hook: 'tracepoint skb:kfree_skb', filters: { reason: 'none' }, reasons: counted.reasons })
  t.equal(ruleProblem(unapplied, drop, testRequest({}, { reasons: ['BOGUS'] }), 'ftrace'), '--reason cannot be applied by ftrace (tracepoint skb:kfree_skb)')
  t.equal(reads, 0, "filters.reason 'none': table not read")

  // A plan without a reason table does not check names.
  const noTable = usablePlan('tcp-drop', { hook: 'tracepoint skb:kfree_skb' })
  t.equal(ruleProblem(noTable, drop, testRequest({}, { reasons: ['BOGUS'] }), 'bpf'), null)
})

t.test('filter rule: a requested filter the plan cannot apply', async (t) => {
  const request = kindRequest('tcp-retransmit')
  const cases: Array<[Parameters<typeof testRequest>[1], KindPlan['filters'], string]> = [
    [{ netns: 4026531840 }, { netns: 'none' }, '--netns cannot be applied by ftrace (tracepoint tcp:tcp_retransmit_skb)'],
    [{ netns: 4026531840 }, {}, '--netns cannot be applied by ftrace (tracepoint tcp:tcp_retransmit_skb)'],
    [{ family: 6 }, { family: 'none' }, '-4/-6 cannot be applied by ftrace (tracepoint tcp:tcp_retransmit_skb)'],
    [{ ports: [443] }, { port: 'none' }, '--port cannot be applied by ftrace (tracepoint tcp:tcp_retransmit_skb)'],
    [{ addrs: ['10.0.0.1'] }, { addr: 'none' }, '--addr cannot be applied by ftrace (tracepoint tcp:tcp_retransmit_skb)'],
    [{ reasons: ['NO_SOCKET'] }, { reason: 'none' }, '--reason cannot be applied by ftrace (tracepoint tcp:tcp_retransmit_skb)'],
  ]
  for (const [filters, places, message] of cases) {
    t.equal(ruleProblem(retransmitPlan({ filters: places }), request, testRequest({}, filters), 'ftrace'), message, message)
  }
  const nohook = usablePlan('tcp-retransmit', { hook: null, filters: {} })
  t.equal(ruleProblem(nohook, request, testRequest({}, { ports: [1] }), 'bpf'), '--port cannot be applied by bpf (no hook)')

  // In the kernel or in user space is fine; a filter nobody asked for does not matter.
  const run = testRequest({}, { family: 4, ports: [443], addrs: ['10.0.0.1'], netns: 1 })
  t.equal(ruleProblem(retransmitPlan({ filters: { family: 'user', port: 'kernel', addr: 'user', netns: 'kernel' } }), request, run, 'bpf'), null)
  t.equal(ruleProblem(retransmitPlan({ filters: { family: 'none', port: 'none', addr: 'none', netns: 'none', reason: 'none' } }), request, testRequest(), 'bpf'), null)
})

t.test('rule order: fields, then reasons, then filters (in -4/-6, --port, --addr, --netns, --reason order)', async (t) => {
  const plan = usablePlan('tcp-drop', {
    hook: 'tracepoint skb:kfree_skb',
    fields: [],
    filters: { family: 'none', port: 'none', addr: 'none', netns: 'none', reason: 'kernel' },
    reasons: () => reasonTable(['NO_SOCKET']),
  })
  const run = testRequest({}, { family: 4, ports: [1], addrs: ['10.0.0.1'], netns: 1, reasons: ['BOGUS'] })
  const withStack = kindRequest('tcp-drop', { fields: { stack: 'stacks' } })
  t.equal(ruleProblem(plan, withStack, run, 'bpf'), 'stacks: skb:kfree_skb has no stack field')
  t.match(ruleProblem(plan, kindRequest('tcp-drop'), run, 'bpf'), /^--reason BOGUS: not a drop reason/)
  const known = testRequest({}, { ...run.filters, reasons: ['NO_SOCKET'] })
  t.equal(ruleProblem(plan, kindRequest('tcp-drop'), known, 'bpf'), '-4/-6 cannot be applied by bpf (tracepoint skb:kfree_skb)')
  const order = ['-4/-6', '--port', '--addr', '--netns']
  const places = { ...plan.filters }
  for (const [i, name] of (['family', 'port', 'addr', 'netns'] as const).entries()) {
    t.equal(ruleProblem({ ...plan, filters: { ...places } }, kindRequest('tcp-drop'), known, 'bpf'), `${order[i]} cannot be applied by bpf (tracepoint skb:kfree_skb)`)
    places[name] = 'kernel'
  }
  t.equal(ruleProblem({ ...plan, filters: places }, kindRequest('tcp-drop'), known, 'bpf'), null)
})

t.test('applyPlanRules: a struck required kind makes the report unusable, an optional one does not', async (t) => {
  const kinds: KindRequest[] = [
    kindRequest('tcp-retransmit', { fields: { seq: '--seq' } }),
    kindRequest('tcp-synack-retransmit', { required: false, fields: { stack: '-s' } }),
  ]
  const strike = (plans: Parameters<typeof fakeReport>[2]) => applyPlanRules(fakeReport('ftrace', kinds, plans), testRequest(), kinds)

  const optional = strike({ 'tcp-synack-retransmit': { hook: 'tracepoint tcp:tcp_retransmit_synack', fields: [] } })
  t.equal(optional.usable, true, 'optional kind struck: still usable')
  t.equal(optional.reason, null)
  t.strictSame(
    optional.kinds.map((k) => [k.kind, k.usable, k.reason]),
    [
      ['tcp-retransmit', true, null],
      ['tcp-synack-retransmit', false, '-s: tcp:tcp_retransmit_synack has no stack field'],
    ],
  )

  const required = strike({ 'tcp-retransmit': { hook: 'tracepoint tcp:tcp_retransmit_skb', fields: [] } })
  t.equal(required.usable, false, 'required kind struck: unusable')
  t.equal(required.reason, 'tcp-retransmit: --seq: tcp:tcp_retransmit_skb has no sequence-number field')
  t.equal(required.kinds[1]?.usable, true, 'the other kind is left alone')

  const both = applyPlanRules(
    fakeReport('bpf', [kinds[0] as KindRequest, { ...(kinds[1] as KindRequest), required: true }], {
      'tcp-retransmit': { hook: 'tracepoint tcp:tcp_retransmit_skb', fields: [] },
      'tcp-synack-retransmit': { hook: 'tracepoint tcp:tcp_retransmit_synack', fields: [] },
    }),
    testRequest(),
    [kinds[0] as KindRequest, { ...(kinds[1] as KindRequest), required: true }],
  )
  t.equal(
    both.reason,
    'tcp-retransmit: --seq: tcp:tcp_retransmit_skb has no sequence-number field; tcp-synack-retransmit: -s: tcp:tcp_retransmit_synack has no stack field',
  )

  // A required kind the backend already could not serve makes the report unusable too.
  const unserved = applyPlanRules(fakeReport('bpf', kinds, { 'tcp-retransmit': { usable: false, reason: 'no BTF' } }), testRequest(), kinds)
  t.equal(unserved.usable, false)
  t.equal(unserved.reason, 'tcp-retransmit: no BTF')
})

t.test('applyPlanRules: what it leaves alone', async (t) => {
  const kinds = [kindRequest('tcp-retransmit', { fields: { seq: '--seq' } })]
  // A report the backend already refused keeps its own reason.
  const refused: BackendReport = fakeReport('bpf', kinds, { 'tcp-retransmit': { fields: [] } }, { usable: false, reason: 'needs CAP_BPF', permissionDenied: true })
  const out = applyPlanRules(refused, testRequest(), kinds)
  t.equal(out.usable, false)
  t.equal(out.reason, 'needs CAP_BPF')
  t.equal(out.permissionDenied, true)
  // Its plans are still judged, so --list-backends says what else stands in the way.
  t.equal(out.kinds[0]?.reason, '--seq: fake:tcp-retransmit has no sequence-number field')

  // An unusable plan keeps its reason; a plan no request asked for is not judged.
  const report = fakeReport('ftrace', kinds, { 'tcp-retransmit': { usable: false, reason: 'tracepoint missing', fields: [] } })
  report.kinds.push(usablePlan('tcp-loss-probe', { fields: [] }))
  const settled = applyPlanRules(report, testRequest(), kinds)
  t.equal(settled.kinds[0]?.reason, 'tracepoint missing')
  t.strictSame([settled.kinds[1]?.usable, settled.kinds[1]?.reason], [true, null])

  // Nothing to strike: usable, no reason.
  const fine = applyPlanRules(fakeReport('bpf', kinds), testRequest(), kinds)
  t.strictSame([fine.usable, fine.reason], [true, null])
})
