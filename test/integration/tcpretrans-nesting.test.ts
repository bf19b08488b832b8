// tcpretrans on bpf stays exact when the kernel skips its program because it
// is already running on that CPU: tcp_retransmit_skb() runs in process context
// (ACKs from a socket's backlog, bottom halves enabled) and a softirq that
// retransmits too can interrupt the program there. The kernel then does not
// run it (its recursion_misses); the standby program on the same tracepoint
// emits those events instead (bpf/include/nest.bpf.h).
//
// The nesting is forced: many lossy flows whose sender and receiver share one
// CPU (process-context retransmits and softirqs on the same CPU) and stacks on
// (a longer program, a wider window). The test goes on until the kernel has
// skipped the primary program at least MIN_MISSES times (read with bpftool,
// not from the tool), then checks records == ΔTcpRetransSegs − ΔTCPRetransFail,
// less the hits no BPF program runs for on this platform (in PID 1's context,
// counted by ftrace: test/lib/init-context-hits.ts). One segment per skb
// (gso_max_segs 1), so records and ftrace lines count alike.
import type { ChildProcess } from 'node:child_process'
import t from 'tap'
import { availableParallelism } from 'node:os'
import { bpfHeldBy, bpfProgram } from '../lib/bpf-held.js'
import { recordInitContextHits } from '../lib/init-context-hits.js'
import { delta, sleep } from '../lib/netns.js'
import { jsonRecords } from '../lib/records.js'
import { startCli } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { flowsGone } from '../lib/traffic.js'
import { requireRoot, testHosts } from '../lib/test-hosts.js'

requireRoot('network namespaces, BPF')

const PORT = 5203
const MIN_MISSES = 1
const MAX_ROUNDS = 36 // of 5 s each: ~0.1–0.3 misses/s measured here
const pair = testHosts('rn', 44, `table inet ndt {
    chain input {
      type filter hook input priority 0;
      tcp dport ${PORT} meta length > 200 numgen random mod 4 == 0 drop
    }
  }`)

/** The tool's programs as the kernel counts them (not as the tool says). */
const programsOf = (pid: number) => [...bpfHeldBy(pid).prog].map(bpfProgram)

/** Runs to the end without blocking this process: it must keep reading the tool's output. */
function finished(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)))
}

t.test('the kernel skips the primary program under nesting; records still == ΔTcpRetransSegs − ΔTCPRetransFail', async (t) => {
  const pin = ['taskset', '-c', String(availableParallelism() - 1)]
  const tool = startCli('tcpretrans', ['-B', 'bpf', '-j', '-s', '--rate-limit', '0', '--netns', `/run/netns/${pair.sender}`])
  await tool.attached
  const pid = tool.child.pid as number
  const primary = () => programsOf(pid).filter((p) => /^retransmit_skb(_err)?$/.test(p.name))
  t.equal(primary().length, 1, 'one primary program on tcp_retransmit_skb')
  t.ok(programsOf(pid).some((p) => /^retransmit_skb(_err)?_standby$/.test(p.name)), 'and its standby')

  const blind = recordInitContextHits('tcp/tcp_retransmit_skb', `dport == ${PORT}`)
  t.teardown(() => blind.close())
  const before = pair.counters(pair.sender)
  const server = pair.spawn(pair.receiver, [...pin, 'iperf3', '-s', '-p', String(PORT)])
  t.teardown(() => {
    if (server.exitCode === null) server.kill('SIGKILL')
  })
  for (let i = 0; i < 50 && !pair.exec(pair.receiver, ['ss', '-Hltn', `sport = :${PORT}`]).trim(); i++) await sleep(100)
  let misses = 0
  let rounds = 0
  while (misses < MIN_MISSES && rounds < MAX_ROUNDS) {
    const code = await finished(pair.spawn(pair.sender, [...pin, 'iperf3', '-c', pair.v4.receiver, '-p', String(PORT), '-t', '5', '-P', '16']))
    if (code !== 0) throw new Error(`iperf3 client exited ${code}`)
    rounds++
    misses = primary()[0]?.misses ?? 0
  }
  server.kill('SIGKILL')
  await flowsGone(pair, PORT)
  await sleep(300)
  const after = pair.counters(pair.sender)
  const r = await stopTool(tool)
  const init = blind.stop((line) => / err=0$/.test(line.trimEnd()))

  t.ok(misses >= MIN_MISSES, `the kernel skipped the primary program ${misses} times in ${rounds * 5} s (nesting forced)`)
  const expected = delta(before, after, 'TcpRetransSegs') - delta(before, after, 'TcpExtTCPRetransFail')
  const records = jsonRecords(r.stdout).filter((x) => x.type === 'retransmit')
  const segs = records.reduce((s, x) => s + (x.segs as number), 0)
  t.ok(expected > 1000, `kernel counted ${expected} retransmitted segments`)
  t.equal(init.total, expected, `ftrace saw the ${expected} too`)
  t.equal(segs, expected - init.hits, `Σ segs of ${records.length} records == ΔTcpRetransSegs − ΔTCPRetransFail − ${init.hits} in PID 1's context`)
  t.match(jsonRecords(r.stdout).find((x) => x.type === 'summary'), { lost: 0 }, 'nothing lost: the standby emitted every skipped event')
})
