import t from 'tap'
import { retransmitEvent, skbDropCountEvent, tcpDropEvent } from '../lib/events.js'
import type { BackendName, KindPlan } from '../../lib/backend.js'
import { unusableReport } from '../../lib/backend.js'
import { runTool } from '../../lib/cli/run-tool.js'
import { BackendStartError, PermissionError, ToolError, UnsupportedError } from '../../lib/errors.js'
import type { RetransmitEvent, SkbDropCountEvent } from '../../lib/events.js'
import { dropwatch } from '../../lib/tools/dropwatch.js'
import { tcpdrop } from '../../lib/tools/tcpdrop.js'
import { tcpretrans } from '../../lib/tools/tcpretrans.js'
import type { ToolDefinition } from '../../lib/tools/tool.js'
import { FakeBackend, fakeReport, type FakeBackendOptions, type FakeRun } from '../lib/fake-backend.js'
import { fakeProcess, type FakeProcess } from '../lib/fake-process.js'
import { jsonRecords } from '../lib/records.js'

// The CLI run in-process: argv → requests → a fake backend's run → stdout and
// stderr and the exit code. No kernel, no root, no child process.

const retransmit = (over: Partial<RetransmitEvent> = {}): RetransmitEvent => retransmitEvent({ pid: 4242, comm: 'curl', netns: 4026531840, seq: 1000, ...over })

const tcpDrop = tcpDropEvent

const dropCount = (count: number): SkbDropCountEvent => skbDropCountEvent({ count })

/** Text output with the clock's HH:MM:SS masked. */
const masked = (text: string) => text.replace(/^\d\d:\d\d:\d\d/gm, 'HH:MM:SS')

/** A backend whose run is driven by `script` (after the banner is out). */
const scripted = (name: BackendName, script: (run: FakeRun) => void, over: FakeBackendOptions = {}) => new FakeBackend(name, { script, ...over })

/** Plans of a usable report, changed per kind. */
const withPlans = (name: BackendName, plans: Partial<Record<KindPlan['kind'], Partial<KindPlan>>>, over: FakeBackendOptions = {}) =>
  new FakeBackend(name, { report: (_r, kinds) => fakeReport(name, kinds, plans), ...over })

async function run<O>(tool: ToolDefinition<O>, proc: FakeProcess, backends: FakeBackend[]): Promise<number> {
  return runTool(tool, proc, backends)
}

/** What runTool rejects with (the test fails when it resolves). */
async function failure<O>(tool: ToolDefinition<O>, proc: FakeProcess, backends: FakeBackend[]): Promise<ToolError> {
  const err = await runTool(tool, proc, backends).then(
    (code) => new Error(`resolved with ${code}`),
    (e: unknown) => e,
  )
  if (!(err instanceof ToolError)) throw err
  return err
}

t.test('arguments become the requests the backend is probed with', { timeout: 5000 }, async (t) => {
  const proc = fakeProcess(['-l', '--seq', '-4', '--port', '443', '--addr', '10.0.0.2', '--rate-limit', '50', '--buffer-kb', '128', '--hook-type', 'tracepoint', '--debug'])
  const bpf = scripted('bpf', () => proc.emit('SIGINT'))
  const ftrace = new FakeBackend('ftrace')
  t.equal(await run(tcpretrans, proc, [bpf, ftrace]), 0)
  t.strictSame(bpf.probes, [
    {
      run: {
        tool: 'tcpretrans',
        filters: { family: 4, ports: [443], addrs: ['10.0.0.2'], netns: null, reasons: [] },
        hookType: 'tracepoint',
        rateLimit: 50,
        bufferKb: 128,
        debug: true,
      },
      kinds: [
        { kind: 'tcp-retransmit', required: true, fields: { seq: '--seq' }, options: { stack: null, includeFailed: false } },
        { kind: 'tcp-synack-retransmit', required: true, fields: {}, options: { stack: null } },
        { kind: 'tcp-loss-probe', required: true, fields: {}, options: { stack: null } },
      ],
    },
  ])
  t.equal(ftrace.probes.length, 0, 'bpf serves every kind: ftrace is not probed')
  t.equal(bpf.startCalls, 1)

  const drop = fakeProcess(['--reason', 'no_socket', '--no-stack'])
  const b2 = scripted('bpf', () => drop.emit('SIGINT'))
  t.equal(await run(tcpdrop, drop, [b2]), 0)
  t.strictSame(b2.probes[0]?.run.filters.reasons, ['NO_SOCKET'], '--reason reaches the backend as a filter')
  t.strictSame(b2.probes[0]?.kinds, [{ kind: 'tcp-drop', required: true, fields: {}, options: { stack: null, owner: false, hideNotSpecified: false } }])

  const watch = fakeProcess(['--by', 'dev'])
  const b3 = scripted('ftrace', () => watch.emit('SIGINT'))
  t.equal(await run(dropwatch, watch, [b3]), 0)
  t.equal(b3.probes[0]?.run.rateLimit, 0, 'dropwatch prints no events: no rate limit')
  t.strictSame(b3.probes[0]?.kinds, [{ kind: 'skb-drop-count', required: true, fields: { dev: '--by dev' }, options: { groupByDev: true } }])
})

t.test('text: banner and "Not seen by" on stderr, header and events on stdout, the summary', { timeout: 5000 }, async (t) => {
  const proc = fakeProcess(['--seq'])
  const bpf = withPlans(
    'bpf',
    {
      'tcp-retransmit': { hook: 'tracepoint tcp:tcp_retransmit_skb', cannotSee: ['retransmits of closed sockets', 'timer-less TLP'] },
      'tcp-synack-retransmit': { hook: 'tracepoint tcp:tcp_retransmit_synack', cannotSee: ['timer-less TLP'] },
    },
    {
      script: (r) => {
        r.push(retransmit(), retransmit({ kind: 'tcp-synack-retransmit', state: 'SYN_RECV', seq: null, lport: 80, raddr: '10.0.0.3' }))
        proc.emit('SIGINT')
      },
    },
  )
  t.equal(await run(tcpretrans, proc, [bpf]), 0)
  t.equal(
    proc.err(),
    'Tracing TCP retransmits via bpf (tracepoint tcp:tcp_retransmit_skb, tracepoint tcp:tcp_retransmit_synack). Ctrl-C to end.\n' +
      'Not seen by bpf: retransmits of closed sockets; timer-less TLP\n' +
      'Ending tracing: 2 retransmits (1 SYN-ACK), 0 lost.\n',
  )
  t.equal(
    masked(proc.out()),
    'TIME     PID    IP LADDR:LPORT            T> RADDR:RPORT            STATE       SEQ\n' +
      'HH:MM:SS 4242   4  10.0.0.1:443           R> 10.0.0.2:50000         ESTABLISHED 1000\n' +
      'HH:MM:SS 4242   4  10.0.0.1:80            R> 10.0.0.3:50000         SYN_RECV    -\n',
  )

  // -q: no banner and no summary note; the events still print.
  const quiet = fakeProcess(['-q'])
  const b2 = scripted('bpf', (r) => {
    r.push(retransmit())
    quiet.emit('SIGINT')
  })
  t.equal(await run(tcpretrans, quiet, [b2]), 0)
  t.equal(quiet.err(), '')
  t.equal(masked(quiet.out()).split('\n').length, 3, 'header, one event, end of text')
})

t.test('tcpdrop: events, hidden NOT_SPECIFIED and the summary', { timeout: 5000 }, async (t) => {
  const proc = fakeProcess(['--no-stack'])
  const bpf = scripted('bpf', (r) => {
    r.push(tcpDrop(), tcpDrop({ reason: 'TCP_CSUM' }), tcpDrop())
    r.extraStats = { hidden: 5 }
    proc.emit('SIGTERM')
  })
  t.equal(await run(tcpdrop, proc, [bpf]), 0)
  t.equal(
    masked(proc.out()),
    'TIME     PID     IP SADDR:SPORT            > DADDR:DPORT            STATE       (FLAGS)   REASON\n' +
      'HH:MM:SS 0       4  192.0.2.7:40000        > 192.0.2.8:22           -           (SYN)     NO_SOCKET\n' +
      'HH:MM:SS 0       4  192.0.2.7:40000        > 192.0.2.8:22           -           (SYN)     TCP_CSUM\n' +
      'HH:MM:SS 0       4  192.0.2.7:40000        > 192.0.2.8:22           -           (SYN)     NO_SOCKET\n',
  )
  t.match(proc.err(), /^Tracing TCP drops via bpf \(tracepoint fake:tcp-drop\)\. Ctrl-C to end\.\n/)
  t.match(
    proc.err(),
    '3 TCP drops shown:\n         2 NO_SOCKET\n         1 TCP_CSUM\n5 drops with reason NOT_SPECIFIED not shown; --all-reasons shows them\n0 lost, 0 suppressed by --rate-limit\n',
  )
})

t.test('JSON (-j): one record per event, then the summary, on stdout', { timeout: 5000 }, async (t) => {
  const proc = fakeProcess(['-j', '--seq'])
  const bpf = scripted('bpf', (r) => {
    r.push(retransmit(), retransmit({ kind: 'tcp-synack-retransmit', seq: null }), retransmit({ kind: 'tcp-loss-probe' }))
    proc.emit('SIGINT')
  })
  t.equal(await run(tcpretrans, proc, [bpf]), 0)
  const records = jsonRecords(proc.out())
  t.strictSame(
    records.map((r) => [r.type, r.seq, r.backend]),
    [
      ['retransmit', 1000, 'bpf'],
      ['retransmit', null, 'bpf'],
      ['tlp', 1000, 'bpf'],
      ['summary', undefined, 'bpf'],
    ],
  )
  t.has(records[0], { pid: 4242, comm: 'curl', family: 4, laddr: '10.0.0.1', lport: 443, raddr: '10.0.0.2', rport: 50000, state: 'ESTABLISHED', netns: 4026531840, ts_ns: 0 })
  t.match(records[0]?.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.has(records[3], { retransmits: 2, synack: 1, tlp: 1, failed: 0, lost: 0, suppressed: 0, unresolved: 0 })
  t.type(records[3]?.duration_s, 'number')
  t.notMatch(proc.err(), /Ending tracing/, 'the summary is a record, not a note')
  t.match(proc.err(), /^Tracing TCP retransmits via bpf/, 'the banner is still on stderr')
})

t.test('-n 2 ends the run after two printed events', { timeout: 5000 }, async (t) => {
  const proc = fakeProcess(['-n', '2'])
  const bpf = scripted('bpf', (r) => r.push(retransmit({ lport: 1 }), retransmit({ lport: 2 }), retransmit({ lport: 3 }), retransmit({ lport: 4 })))
  t.equal(await run(tcpretrans, proc, [bpf]), 0, 'ends without a signal')
  t.strictSame(
    masked(proc.out()).split('\n').slice(1),
    ['HH:MM:SS 4242   4  10.0.0.1:1             R> 10.0.0.2:50000         ESTABLISHED', 'HH:MM:SS 4242   4  10.0.0.1:2             R> 10.0.0.2:50000         ESTABLISHED', ''],
  )
  t.match(proc.err(), /Ending tracing: 2 retransmits \(0 SYN-ACK\), 0 lost\.\n$/)
  t.equal(bpf.runs[0]?.closeCalls, 1, 'the run is closed, once')
})

t.test('a signal ends the run: exit 0, the run closed, the listeners removed', { timeout: 5000 }, async (t) => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGPIPE'] as const) {
    const proc = fakeProcess([])
    let during: ReturnType<FakeProcess['listening']> = {}
    let closedBefore = -1
    const bpf = scripted('bpf', (r) => {
      during = proc.listening()
      closedBefore = r.closeCalls
      proc.emit(signal)
    })
    t.equal(await run(tcpretrans, proc, [bpf]), 0, signal)
    t.strictSame(during, { SIGINT: 1, SIGTERM: 1, SIGHUP: 1, SIGPIPE: 1, exit: 1 }, `${signal}: listening while tracing`)
    t.strictSame(proc.listening(), {}, `${signal}: every listener removed`)
    t.equal(closedBefore, 0, 'not closed while running')
    t.equal(bpf.runs[0]?.closeCalls, 1, `${signal}: closed, once`)
  }

  // The process 'exit' listener releases the kernel objects of a run that is still going.
  const proc = fakeProcess([])
  const bpf = scripted('bpf', (r) => {
    proc.emit('exit')
    t.equal(r.closeCalls, 1, "'exit' closes the run")
    proc.emit('SIGINT')
  })
  t.equal(await run(tcpretrans, proc, [bpf]), 0)
})

t.test('a closed stdout (EPIPE) ends the run quietly, exit 0', { timeout: 5000 }, async (t) => {
  const proc = fakeProcess(['-i', '0.01'])
  const bpf = scripted('bpf', (r) => {
    r.onSample = (run) => run.push(dropCount(1))
    setTimeout(() => proc.stdout.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })), 30)
  })
  t.equal(await run(dropwatch, proc, [bpf]), 0)
  const samples = bpf.runs[0]?.sampleCalls ?? 0
  t.equal(proc.out().split('\n').filter((l) => /drops?$/.test(l)).length, samples, 'nothing written after the reader left (no final interval, no summary)')
  t.notMatch(proc.out(), /Total over/)
  t.equal(bpf.runs[0]?.closeCalls, 1)
  t.strictSame(proc.listening(), {})
})

t.test('--list-backends: every backend probed for every kind, text and JSON, nothing started', { timeout: 5000 }, async (t) => {
  const backends = () => [new FakeBackend('bpf'), withPlans('ftrace', { 'tcp-loss-probe': { usable: false, reason: 'no kprobes' } })]

  const text = fakeProcess(['--list-backends'])
  const [bpf, ftrace] = backends()
  t.equal(await run(tcpretrans, text, [bpf as FakeBackend, ftrace as FakeBackend]), 0)
  t.strictSame([bpf?.probes.length, ftrace?.probes.length, bpf?.startCalls, ftrace?.startCalls], [1, 1, 0, 0])
  t.strictSame(
    bpf?.probes[0]?.kinds.map((k) => [k.kind, k.required]),
    [
      ['tcp-retransmit', true],
      ['tcp-synack-retransmit', true],
      ['tcp-loss-probe', false],
    ],
    'every kind the tool can use, the optional ones not required',
  )
  const lines = text.out().split('\n')
  t.equal(lines[0], 'tcpretrans: backends on this kernel')
  t.equal(lines[1], 'bpf: usable (selected by --backend auto)')
  t.ok(lines.includes('ftrace: usable'))
  t.ok(lines.includes('  tcp-loss-probe (optional): not usable: no kprobes'))
  t.ok(lines.includes('  tcp-loss-probe (optional): tracepoint fake:tcp-loss-probe'))
  t.equal(text.err(), '')

  const json = fakeProcess(['--list-backends', '-j', '--no-synack'])
  const [b2, f2] = backends()
  t.equal(await run(tcpretrans, json, [b2 as FakeBackend, f2 as FakeBackend]), 0)
  const records = jsonRecords(json.out())
  t.equal(records.length, 1)
  const rec = records[0] as { type: string; tool: string; selected: string; backends: Array<{ backend: string; usable: boolean; kinds: Array<{ kind: string; required: boolean; usable: boolean; reason: string | null }> }> }
  t.strictSame([rec.type, rec.tool, rec.selected], ['backends', 'tcpretrans', 'bpf'])
  t.strictSame(rec.backends.map((b) => [b.backend, b.usable]), [
    ['bpf', true],
    ['ftrace', true],
  ])
  t.strictSame(
    rec.backends[1]?.kinds.map((k) => [k.kind, k.required, k.usable, k.reason]),
    [
      ['tcp-retransmit', true, true, null],
      ['tcp-synack-retransmit', false, true, null],
      ['tcp-loss-probe', false, false, 'no kprobes'],
    ],
  )

  // -B names the one backend to report; a wider ftrace is selected over a narrower bpf.
  const one = fakeProcess(['--list-backends', '-j', '-B', 'ftrace'])
  const [b3, f3] = [new FakeBackend('bpf'), new FakeBackend('ftrace')]
  t.equal(await run(tcpretrans, one, [b3, f3]), 0)
  t.strictSame([b3.probes.length, f3.probes.length], [0, 1])
  t.equal(jsonRecords(one.out())[0]?.selected, 'ftrace')
  const wider = fakeProcess(['--list-backends', '-j'])
  t.equal(await run(tcpretrans, wider, [withPlans('bpf', { 'tcp-loss-probe': { usable: false, reason: 'x' } }), new FakeBackend('ftrace')]), 0)
  t.equal(jsonRecords(wider.out())[0]?.selected, 'ftrace')
})

t.test('--backend auto: a backend that fails to start hands over to the next, with a line on stderr', { timeout: 5000 }, async (t) => {
  const proc = fakeProcess([])
  const bpf = new FakeBackend('bpf', { startError: new Error('attach failed: EINVAL') })
  const ftrace = scripted('ftrace', (r) => {
    r.push(retransmit())
    proc.emit('SIGINT')
  })
  t.equal(await run(tcpretrans, proc, [bpf, ftrace]), 0)
  t.strictSame([bpf.startCalls, ftrace.startCalls, ftrace.probes.length], [1, 1, 1], 'ftrace probed once bpf failed')
  const err = proc.err().split('\n')
  t.equal(err[0], 'tcpretrans: bpf backend: attach failed: EINVAL; falling back to ftrace')
  t.equal(err[1], 'Tracing TCP retransmits via ftrace (tracepoint fake:tcp-retransmit, tracepoint fake:tcp-synack-retransmit). Ctrl-C to end.')
  t.equal(masked(proc.out()).split('\n').length, 3, 'the event printed once, under one header')
  t.strictSame(proc.listening(), {})

  // No usable fallback: the start error itself (exit 1).
  const alone = fakeProcess([])
  const e1 = await failure(tcpretrans, alone, [new FakeBackend('bpf', { startError: new Error('attach failed') }), new FakeBackend('ftrace', { report: (_r, k) => unusableReport('ftrace', k, 'no tracefs') })])
  t.type(e1, BackendStartError)
  t.equal(e1.exitCode, 1)
  t.equal(e1.message, 'bpf backend: attach failed')

  // -B bpf: no fallback at all.
  const named = fakeProcess(['-B', 'bpf'])
  const f2 = new FakeBackend('ftrace')
  const e2 = await failure(tcpretrans, named, [new FakeBackend('bpf', { startError: new Error('attach failed') }), f2])
  t.type(e2, BackendStartError)
  t.equal(f2.probes.length, 0)

  // A start that fails for lack of privilege is not handed over (exit 3).
  const perm = fakeProcess([])
  const f3 = new FakeBackend('ftrace')
  const e3 = await failure(tcpretrans, perm, [new FakeBackend('bpf', { startError: new PermissionError('bpf(BPF_PROG_LOAD): EPERM') }), f3])
  t.equal(e3.exitCode, 3)
  t.equal(e3.message, 'bpf backend: bpf(BPF_PROG_LOAD): EPERM')
  t.equal(f3.startCalls, 0)
})

t.test('-B bpf when bpf is unusable: UnsupportedError, exit 4, ftrace not tried', { timeout: 5000 }, async (t) => {
  const proc = fakeProcess(['-B', 'bpf'])
  const ftrace = new FakeBackend('ftrace')
  const err = await failure(tcpretrans, proc, [new FakeBackend('bpf', { report: (_r, k) => unusableReport('bpf', k, 'no BTF at /sys/kernel/btf/vmlinux') }), ftrace])
  t.type(err, UnsupportedError)
  t.equal(err.exitCode, 4)
  t.equal(err.message, 'no backend can run tcpretrans here: bpf: no BTF at /sys/kernel/btf/vmlinux')
  t.equal(ftrace.probes.length, 0)
  t.equal(proc.out(), '')

  // Unusable for lack of privilege: exit 3.
  const denied = await failure(tcpretrans, fakeProcess([]), [
    new FakeBackend('bpf', { report: (_r, k) => unusableReport('bpf', k, 'needs CAP_BPF', true) }),
    new FakeBackend('ftrace', { report: (_r, k) => unusableReport('ftrace', k, 'needs CAP_SYS_ADMIN', true) }),
  ])
  t.type(denied, PermissionError)
  t.equal(denied.exitCode, 3)
})

t.test('filters the plan leaves to user space are applied to the events; kernel ones are not repeated', { timeout: 5000 }, async (t) => {
  const events = [retransmit({ lport: 1, rport: 443 }), retransmit({ lport: 2, rport: 2 }), retransmit({ lport: 443 }), retransmit({ lport: 3, rport: 4 })]
  const ports = (text: string) => [...text.matchAll(/10\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1]))

  const user = fakeProcess(['--port', '443'])
  const onUser = withPlans('bpf', { 'tcp-retransmit': { filters: { port: 'user' } }, 'tcp-synack-retransmit': { filters: { port: 'kernel' } } }, {
    script: (r) => {
      r.push(...events)
      user.emit('SIGINT')
    },
  })
  t.equal(await run(tcpretrans, user, [onUser]), 0)
  t.strictSame(ports(user.out()), [1, 443])

  const kernel = fakeProcess(['--port', '443'])
  const inKernel = scripted('bpf', (r) => {
    r.push(...events)
    kernel.emit('SIGINT')
  })
  t.equal(await run(tcpretrans, kernel, [inKernel]), 0)
  t.strictSame(ports(kernel.out()), [1, 2, 443, 3], 'the fake kernel let them through: printed as they come')

  // -n counts the events that passed the filter.
  const counted = fakeProcess(['--port', '443', '-n', '1'])
  const b3 = withPlans('bpf', { 'tcp-retransmit': { filters: { port: 'user' } } }, { script: (r) => r.push(...events.slice(1)) })
  t.equal(await run(tcpretrans, counted, [b3]), 0)
  t.strictSame(ports(counted.out()), [443])

  // tcpdrop --reason in user space.
  const reasons = fakeProcess(['--reason', 'TCP_CSUM', '-j'])
  const b4 = withPlans('ftrace', { 'tcp-drop': { filters: { reason: 'user' } } }, {
    script: (r) => {
      r.push(tcpDrop(), tcpDrop({ reason: 'TCP_CSUM' }), tcpDrop({ reason: null }))
      reasons.emit('SIGINT')
    },
  })
  t.equal(await run(tcpdrop, reasons, [b4]), 0)
  t.strictSame(jsonRecords(reasons.out()).map((r) => [r.type, r.reason]), [
    ['drop', 'TCP_CSUM'],
    ['summary', undefined],
  ])
})

t.test('interval tools: Run.sample() before each interval; dropwatch -n counts intervals', { timeout: 5000 }, async (t) => {
  const proc = fakeProcess(['-i', '0.01', '-n', '2'])
  const bpf = scripted('bpf', (r) => (r.onSample = (run) => run.push(dropCount(5))))
  t.equal(await run(dropwatch, proc, [bpf]), 0)
  t.equal(bpf.runs[0]?.sampleCalls, 2, 'one sample per interval, none after the last')
  t.equal(proc.err(), 'Monitoring for dropped packets (bpf, tracepoint fake:skb-drop-count). Ctrl-C to stop.\n')
  t.match(
    masked(proc.out()),
    /^HH:MM:SS {2}5 drops\n {7}5 packets dropped at tcp_v4_rcv\+0x1a0 \(NO_SOCKET\)\nHH:MM:SS {2}5 drops\n {7}5 packets dropped at tcp_v4_rcv\+0x1a0 \(NO_SOCKET\)\n\nTotal over [\d.]+ s: 10 drops, 0 lost\n {6}10 packets dropped at tcp_v4_rcv\+0x1a0 \(NO_SOCKET\)\n$/,
  )

  // Stopped by a signal: the counts since the last interval are sampled and printed too.
  const sig = fakeProcess(['-i', '0.01', '-j'])
  const b2 = scripted('bpf', (r) => {
    r.onSample = (run) => {
      run.push(dropCount(run.sampleCalls))
      if (run.sampleCalls === 2) sig.emit('SIGINT')
    }
  })
  t.equal(await run(dropwatch, sig, [b2]), 0)
  t.equal(b2.runs[0]?.sampleCalls, 3, 'two intervals, then once more at the end')
  t.strictSame(
    jsonRecords(sig.out()).map((r) => [r.type, r.total]),
    [
      ['interval', 1],
      ['interval', 2],
      ['interval', 3],
      ['summary', 6],
    ],
  )

  // tcpretrans -c -i: the per-flow table every interval.
  const counts = fakeProcess(['-c', '-i', '0.01', '-j'])
  const b3 = scripted('bpf', (r) => {
    r.push(retransmit(), retransmit())
    r.onSample = () => counts.emit('SIGINT')
  })
  t.equal(await run(tcpretrans, counts, [b3]), 0)
  t.ok((b3.runs[0]?.sampleCalls ?? 0) >= 1)
  t.strictSame(jsonRecords(counts.out()).map((r) => [r.type, r.retransmits]), [
    ['count', 2],
    ['summary', 2],
  ])
})

t.test('loss: a WARNING on stderr, and {"type":"lost"} records for per-event JSON tools', { timeout: 5000 }, async (t) => {
  const json = fakeProcess(['-j'])
  const b1 = scripted('bpf', (r) => {
    r.push(retransmit())
    r.lost = 3
    json.emit('SIGINT')
  })
  t.equal(await run(tcpretrans, json, [b1]), 0)
  t.strictSame(
    jsonRecords(json.out()).map((r) => [r.type, r.count, r.total, r.lost]),
    [
      ['retransmit', undefined, undefined, undefined],
      ['lost', 3, 3, undefined],
      ['summary', undefined, undefined, 3],
    ],
  )
  t.match(json.err(), /\ntcpretrans: WARNING: 3 events lost \(3 in total\)\n$/)

  const text = fakeProcess([])
  const b2 = scripted('bpf', (r) => {
    r.lost = 7
    text.emit('SIGINT')
  })
  t.equal(await run(tcpretrans, text, [b2]), 0)
  t.notMatch(text.out(), /lost/, 'no lost record in text output')
  t.match(text.err(), /tcpretrans: WARNING: 7 events lost \(7 in total\)\nEnding tracing: 0 retransmits \(0 SYN-ACK\), 7 lost\.\n$/)

  // dropwatch reports loss in its interval records, not as separate records.
  const watch = fakeProcess(['-j', '-i', '0.01', '-n', '1'])
  const b3 = scripted('bpf', (r) => (r.onSample = (run) => (run.lost = 4)))
  t.equal(await run(dropwatch, watch, [b3]), 0)
  t.strictSame(
    jsonRecords(watch.out()).map((r) => [r.type, r.lost]),
    [
      ['interval', 4],
      ['summary', 4],
    ],
  )
  t.match(watch.err(), /dropwatch: WARNING: 4 events lost \(4 in total\)\n$/)
})

t.test('what the backend says while running: notices, and a failure ends the run with its error', { timeout: 5000 }, async (t) => {
  const proc = fakeProcess([])
  const bpf = scripted('bpf', (r) => {
    r.ctx.notice('removed 2 stale kprobe events')
    proc.emit('SIGINT')
  })
  t.equal(await run(tcpretrans, proc, [bpf]), 0)
  t.match(proc.err(), /\ntcpretrans: removed 2 stale kprobe events\n/)

  const failing = fakeProcess([])
  const b2 = scripted('bpf', (r) => r.ctx.fail(new Error('ring buffer poll: EBADF')))
  const err = await runTool(tcpretrans, failing, [b2]).catch((e: unknown) => e)
  t.equal((err as Error).message, 'ring buffer poll: EBADF')
  t.equal(b2.runs[0]?.closeCalls, 1, 'closed, once')
  t.strictSame(failing.listening(), {})
})

t.test('--rate-limit: enforced here unless the backend does it in the kernel', { timeout: 5000 }, async (t) => {
  const events = Array.from({ length: 6 }, (_, i) => retransmit({ lport: i + 1 }))
  const user = fakeProcess(['--rate-limit', '1', '-j'])
  const b1 = scripted('bpf', (r) => {
    r.push(...events)
    user.emit('SIGINT')
  })
  t.equal(await run(tcpretrans, user, [b1]), 0)
  const records = jsonRecords(user.out())
  const shown = records.filter((r) => r.type === 'retransmit').length
  const summary = records.find((r) => r.type === 'summary')
  // One per second: two if the events straddle a second boundary.
  t.ok(shown >= 1 && shown <= 2, `shown ${shown}`)
  t.equal(summary?.suppressed, events.length - shown)
  t.match(user.err(), /tcpretrans: \d events suppressed by --rate-limit \(ESTABLISHED: \d\)/)

  const kernel = fakeProcess(['--rate-limit', '1', '-j'])
  const b2 = new FakeBackend('bpf', {
    report: (_r, k) => fakeReport('bpf', k, {}, { rateLimitInKernel: true }),
    script: (r) => {
      r.push(...events)
      kernel.emit('SIGINT')
    },
  })
  t.equal(await run(tcpretrans, kernel, [b2]), 0)
  t.equal(jsonRecords(kernel.out()).filter((r) => r.type === 'retransmit').length, 6, 'the kernel limited: all printed here')
})

t.test('--help and --version print and exit 0 without probing', { timeout: 5000 }, async (t) => {
  const help = fakeProcess(['--help'])
  const bpf = new FakeBackend('bpf')
  t.equal(await run(tcpretrans, help, [bpf]), 0)
  t.match(help.out(), /^Usage: tcpretrans \[options\]\n/)
  const version = fakeProcess(['-V'])
  t.equal(await run(dropwatch, version, [bpf]), 0)
  t.match(version.out(), /^dropwatch \(netdrop-tools\) \S+\n$/)
  t.equal(bpf.probes.length, 0)
})

t.test('sysctl: dead runs restored first (a line each), --allow-sysctl said and undone on every path', { timeout: 5000 }, async (t) => {
  const calls: string[] = []
  const change = {
    description: 'kernel.kptr_restrict 2 → 1 for this run (--allow-sysctl)',
    restore: () => void calls.push('restore'),
  }
  const mocked = await t.mockImport<typeof import('../../lib/cli/run-tool.js')>('../../lib/cli/run-tool.js', {
    '../../lib/sysctl-guard.js': {
      restoreDeadRuns: () => {
        calls.push('restoreDeadRuns')
        return ['restored kernel.kptr_restrict=2 changed by run netdrop_tcpretrans_1_2, which no longer exists']
      },
      relaxKptrRestrict: (tag: { tool: string; name: string }) => {
        calls.push(`relax ${tag.tool} ${tag.name.startsWith(`netdrop_${tag.tool}_${process.pid}_`)}`)
        return change
      },
    },
  })

  const proc = fakeProcess(['--allow-sysctl'])
  let during: ReturnType<FakeProcess['listening']> = {}
  const bpf = scripted('bpf', () => {
    during = proc.listening()
    calls.push('running')
    proc.emit('SIGINT')
  })
  t.equal(await mocked.runTool(tcpretrans, proc, [bpf]), 0)
  t.strictSame(calls, ['restoreDeadRuns', 'relax tcpretrans true', 'running', 'restore'])
  t.strictSame(proc.err().split('\n').slice(0, 3), [
    'tcpretrans: restored kernel.kptr_restrict=2 changed by run netdrop_tcpretrans_1_2, which no longer exists',
    'tcpretrans: kernel.kptr_restrict 2 → 1 for this run (--allow-sysctl)',
    'Tracing TCP retransmits via bpf (tracepoint fake:tcp-retransmit, tracepoint fake:tcp-synack-retransmit). Ctrl-C to end.',
  ])
  t.equal(during.exit, 2, "an 'exit' listener restores it should the process end first (besides the run's own)")
  t.strictSame(proc.listening(), {}, 'removed once restored')

  // Restored when the run fails too; without --allow-sysctl nothing is changed.
  calls.length = 0
  const failing = fakeProcess(['--allow-sysctl', '-q'])
  const err = await mocked.runTool(tcpretrans, failing, [new FakeBackend('bpf', { report: (_r, k) => unusableReport('bpf', k, 'no BTF') })]).catch((e: unknown) => e)
  t.equal((err as Error).name, 'UnsupportedError')
  t.strictSame(calls, ['restoreDeadRuns', 'relax tcpretrans true', 'restore'])
  t.equal(failing.err().includes('kptr_restrict 2 → 1'), false, '-q: not said')

  calls.length = 0
  const plain = fakeProcess([])
  t.equal(await mocked.runTool(tcpretrans, plain, [scripted('bpf', () => plain.emit('SIGINT'))]), 0)
  t.strictSame(calls, ['restoreDeadRuns'])
})
