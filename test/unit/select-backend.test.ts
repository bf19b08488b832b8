import t from 'tap'
import type { BackendReport } from '../../lib/backend.js'
import { unusableReport } from '../../lib/backend.js'
import type { KindRequest } from '../../lib/events.js'
import { PermissionError, UnsupportedError } from '../../lib/errors.js'
import { coverage, probeAll, rank, selectBackend } from '../../lib/select-backend.js'
import { FakeBackend, fakeReport } from '../lib/fake-backend.js'
import { kindRequest, testRequest } from '../lib/request.js'

// Backend selection (SPEC §2) over fake backends: which is chosen, which are
// probed (and when), and the error when none can run.

const KINDS: KindRequest[] = [kindRequest('tcp-retransmit'), kindRequest('tcp-synack-retransmit', { required: false })]
const run = testRequest()

/** Usable, serving every kind. */
const full = (name: 'bpf' | 'ftrace') => new FakeBackend(name)
/** Usable, without the optional SYN-ACK kind. */
const partial = (name: 'bpf' | 'ftrace') =>
  new FakeBackend(name, { report: (_r, kinds) => fakeReport(name, kinds, { 'tcp-synack-retransmit': { usable: false, reason: 'no synack hook' } }) })
const unusable = (name: 'bpf' | 'ftrace', reason: string, permissionDenied = false) =>
  new FakeBackend(name, { report: (_r, kinds) => unusableReport(name, kinds, reason, permissionDenied) })

t.test('coverage and rank: widest coverage first, earlier (bpf) first on a tie, unusable left out', async (t) => {
  const r = (backend: 'bpf' | 'ftrace', usableKinds: number, usable = true): { report: BackendReport } => ({
    report: fakeReport(backend, KINDS, usableKinds < 2 ? { 'tcp-synack-retransmit': { usable: false } } : {}, { usable }),
  })
  t.equal(coverage(r('bpf', 2).report), 2)
  t.equal(coverage(r('bpf', 1).report), 1)
  t.equal(coverage(unusableReport('bpf', KINDS, 'x')), 0)

  const [b1, f2] = [r('bpf', 1), r('ftrace', 2)]
  t.strictSame(rank([b1, f2]), [f2, b1], 'wider coverage wins')
  const [b, f] = [r('bpf', 2), r('ftrace', 2)]
  t.equal(rank([b, f])[0], b, 'tie: bpf (listed first)')
  const [bu, fu] = [r('bpf', 2, false), r('ftrace', 1)]
  t.strictSame(rank([bu, fu]), [fu], 'unusable reports are not ranked')
  t.strictSame(rank([]), [])
})

t.test('probing stops once a backend covers every kind; fallbacks probe the rest on demand', async (t) => {
  const bpf = full('bpf')
  const ftrace = full('ftrace')
  const sel = await selectBackend([bpf, ftrace], 'auto', run, KINDS)
  t.equal(sel.chosen.backend, 'bpf')
  t.equal(bpf.probes.length, 1)
  t.equal(ftrace.probes.length, 0, 'ftrace not probed: bpf covers every kind')
  t.strictSame(bpf.probes[0], { run, kinds: KINDS }, 'probe gets the run and the kinds')

  const fallbacks = await sel.fallbacks()
  t.strictSame(fallbacks.map((p) => p.backend), ['ftrace'])
  t.equal(ftrace.probes.length, 1, 'probed for the fallback')
  await sel.fallbacks()
  t.equal(ftrace.probes.length, 1, 'probed once only')
  t.equal(bpf.probes.length, 1)
})

t.test('a backend that covers less does not stop probing; the wider one wins', async (t) => {
  const bpf = partial('bpf')
  const ftrace = full('ftrace')
  const sel = await selectBackend([bpf, ftrace], 'auto', run, KINDS)
  t.equal(sel.chosen.backend, 'ftrace')
  t.strictSame([bpf.probes.length, ftrace.probes.length], [1, 1])
  t.strictSame((await sel.fallbacks()).map((p) => p.backend), ['bpf'], 'the narrower one is the fallback')
  t.strictSame([bpf.probes.length, ftrace.probes.length], [1, 1], 'nothing probed again')

  // The chosen probe is the one the backend returned, start and all.
  const started = await sel.chosen.start({ sink: { event: () => {}, batchEnd: () => {}, ready: () => true }, notice: () => {}, fail: () => {} })
  t.equal(ftrace.startCalls, 1)
  t.equal(started, ftrace.runs[0])
})

t.test('a tie goes to bpf; an unusable backend is skipped', async (t) => {
  const tie = await selectBackend([partial('bpf'), partial('ftrace')], 'auto', run, KINDS)
  t.equal(tie.chosen.backend, 'bpf')
  t.strictSame((await tie.fallbacks()).map((p) => p.backend), ['ftrace'])

  const skip = await selectBackend([unusable('bpf', 'no BTF'), partial('ftrace')], 'auto', run, KINDS)
  t.equal(skip.chosen.backend, 'ftrace')
  t.strictSame(await skip.fallbacks(), [], 'an unusable backend is no fallback')
})

t.test('--backend NAME: only that backend is probed', async (t) => {
  const bpf = full('bpf')
  const ftrace = partial('ftrace')
  const sel = await selectBackend([bpf, ftrace], 'ftrace', run, KINDS)
  t.equal(sel.chosen.backend, 'ftrace')
  t.equal(bpf.probes.length, 0)
  t.strictSame(await sel.fallbacks(), [])
  t.equal(bpf.probes.length, 0, 'not even for fallbacks')

  const refused = unusable('bpf', 'no BTF')
  const other = full('ftrace')
  const err = await selectBackend([refused, other], 'bpf', run, KINDS).catch((e: unknown) => e)
  t.type(err, UnsupportedError)
  t.equal((err as UnsupportedError).message, 'no backend can run tcpretrans here: bpf: no BTF')
  t.equal(other.probes.length, 0)
})

t.test('nothing usable: exit 3 if any failed for lack of privilege, else exit 4, with every reason', async (t) => {
  const perm = await selectBackend([unusable('bpf', 'needs CAP_BPF', true), unusable('ftrace', 'tracefs not mounted')], 'auto', run, KINDS).catch((e: unknown) => e)
  t.type(perm, PermissionError)
  t.equal((perm as PermissionError).exitCode, 3)
  t.equal((perm as PermissionError).message, 'not permitted: bpf: needs CAP_BPF; ftrace: tracefs not mounted')

  const permLast = await selectBackend([unusable('bpf', 'no BTF'), unusable('ftrace', 'needs CAP_SYS_ADMIN', true)], 'auto', run, KINDS).catch((e: unknown) => e)
  t.type(permLast, PermissionError)
  t.equal((permLast as PermissionError).exitCode, 3)

  const unsup = await selectBackend([unusable('bpf', 'no BTF'), unusable('ftrace', 'no tracepoint')], 'auto', testRequest({ tool: 'tcpdrop' }), KINDS).catch((e: unknown) => e)
  t.type(unsup, UnsupportedError)
  t.equal((unsup as UnsupportedError).exitCode, 4)
  t.equal((unsup as UnsupportedError).message, 'no backend can run tcpdrop here: bpf: no BTF; ftrace: no tracepoint')

  // A report without a reason still names the backend.
  const silent = new FakeBackend('bpf', { report: (_r, kinds) => fakeReport('bpf', kinds, {}, { usable: false }) })
  const e = await selectBackend([silent], 'auto', run, KINDS).catch((x: unknown) => x)
  t.equal((e as UnsupportedError).message, 'no backend can run tcpretrans here: bpf: unusable')
})

t.test('the generic plan rules are applied to each probe report', async (t) => {
  const kinds = [kindRequest('tcp-retransmit', { fields: { seq: '--seq' } })]
  const noSeq = (name: 'bpf' | 'ftrace') =>
    new FakeBackend(name, { report: (_r, k) => fakeReport(name, k, { 'tcp-retransmit': { hook: `tracepoint ${name}:retransmit`, fields: ['stack'] } }) })
  const bpf = noSeq('bpf')
  const ftrace = full('ftrace')
  const sel = await selectBackend([bpf, ftrace], 'auto', run, kinds)
  t.equal(sel.chosen.backend, 'ftrace', 'bpf cannot print --seq')
  t.strictSame(await sel.fallbacks(), [])
  t.equal(bpf.reports[0]?.usable, false)
  t.equal(bpf.reports[0]?.reason, 'tcp-retransmit: --seq: bpf:retransmit has no sequence-number field')

  const err = await selectBackend([noSeq('bpf'), noSeq('ftrace')], 'auto', run, kinds).catch((e: unknown) => e)
  t.equal(
    (err as UnsupportedError).message,
    'no backend can run tcpretrans here: bpf: tcp-retransmit: --seq: bpf:retransmit has no sequence-number field; ftrace: tcp-retransmit: --seq: ftrace:retransmit has no sequence-number field',
  )

  // A filter the plan cannot apply strikes the kind too.
  const netnsRun = testRequest({}, { netns: 1 })
  const blind = new FakeBackend('bpf', { report: (_r, k) => fakeReport('bpf', k, { 'tcp-retransmit': { hook: 'tracepoint tcp:tcp_retransmit_skb', filters: { netns: 'none' } } }) })
  const e2 = await selectBackend([blind], 'auto', netnsRun, [kindRequest('tcp-retransmit')]).catch((e: unknown) => e)
  t.equal((e2 as UnsupportedError).message, 'no backend can run tcpretrans here: bpf: tcp-retransmit: --netns cannot be applied by bpf (tracepoint tcp:tcp_retransmit_skb)')
})

t.test('probeAll: every backend, in order, rules applied', async (t) => {
  const bpf = full('bpf')
  const ftrace = partial('ftrace')
  const kinds = [kindRequest('tcp-retransmit', { fields: { seq: '--seq' } }), kindRequest('tcp-synack-retransmit', { required: false })]
  const probed = await probeAll([bpf, ftrace], run, kinds)
  t.strictSame(probed.map((p) => p.backend), ['bpf', 'ftrace'])
  t.strictSame([bpf.probes.length, ftrace.probes.length], [1, 1], 'both probed although bpf covers everything')
  t.strictSame(probed.map((p) => p.report.usable), [true, true])

  const strict = new FakeBackend('bpf', { report: (_r, k) => fakeReport('bpf', k, { 'tcp-retransmit': { fields: [] } }) })
  const [p] = await probeAll([strict], run, kinds)
  t.equal(p?.report.usable, false)
  t.equal(p?.report.kinds[0]?.reason, '--seq: fake:tcp-retransmit has no sequence-number field')
})
