// tcpretrans on bpf: the same records as on ftrace for the same scenario, and
// both equal to the kernel's counters (SPEC §7).
import t from 'tap'
import { counterDeltas, sentRetransmits } from '../lib/ground-truth.js'
import { sleep } from '../lib/netns.js'
import { jsonRecords, type JsonRecord } from '../lib/records.js'
import { startCli } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { bulkTransfer, connectAttempts, flowsGone } from '../lib/traffic.js'
import { requireRoot, testHosts } from '../lib/test-hosts.js'

requireRoot('network namespaces, BPF, tracefs')

const pair = testHosts('rb', 42, `table inet ndt {
    chain input {
      type filter hook input priority 0;
      tcp dport 9001 drop
      tcp dport 5201 meta length > 200 numgen random mod 40 == 0 drop
    }
  }`)

const key = (r: JsonRecord) => `${r.type} ${r.family} ${r.laddr}:${r.lport} > ${r.raddr}:${r.rport} ${r.state}`
const multiset = (recs: JsonRecord[]) => {
  const m = new Map<string, number>()
  for (const r of recs) m.set(key(r), (m.get(key(r)) ?? 0) + 1)
  return Object.fromEntries([...m].sort())
}

for (const fam of [4, 6] as const) {
  t.test(`IPv${fam}: bpf and ftrace report the same retransmits, equal to ΔTcpRetransSegs − ΔTCPRetransFail of both ends`, async (t) => {
    const a = fam === 4 ? pair.v4 : pair.v6
    const args = ['-j', '--rate-limit', '0', '--addr', a.sender, '--seq']
    const bpf = startCli('tcpretrans', ['-B', 'bpf', ...args])
    const ftrace = startCli('tcpretrans', ['-B', 'ftrace', ...args.filter((x) => x !== '--seq')])
    await Promise.all([bpf.attached, ftrace.attached])
    // --addr matches both ends, so the receiver's own retransmits (a FIN, a
    // tail loss probe on a loaded host) are records too: both namespaces count.
    const deltas = counterDeltas(pair)
    await bulkTransfer(pair, a.receiver, 5201, '4M')
    connectAttempts(pair, a.receiver, 9001, 2)
    await flowsGone(pair, 5201)
    await sleep(300)
    const expected = sentRetransmits(deltas())
    const [rb, rf] = await Promise.all([stopTool(bpf), stopTool(ftrace)])
    const recB = jsonRecords(rb.stdout).filter((r) => r.type === 'retransmit')
    const recF = jsonRecords(rf.stdout).filter((r) => r.type === 'retransmit')
    t.ok(expected > 0, `kernel counted ${expected}`)
    t.equal(recB.length, expected, 'bpf records == kernel counter')
    t.equal(recF.length, expected, 'ftrace records == kernel counter')
    t.same(multiset(recB), multiset(recF), 'same flows, states and counts on both backends')
    t.ok(recB.every((r) => r.backend === 'bpf' && typeof r.seq === 'number'), 'bpf fills seq')
    t.ok(recB.every((r) => typeof r.netns === 'number' && (r.netns as number) > 0), 'bpf fills netns')
    t.match(jsonRecords(rb.stdout).find((r) => r.type === 'summary'), { lost: 0 })
  })
}

t.test('--netns keeps only the events of that namespace (bpf, in the kernel)', async (t) => {
  const tool = startCli('tcpretrans', ['-j', '-B', 'bpf', '--netns', `/run/netns/${pair.sender}`])
  const other = startCli('tcpretrans', ['-j', '-B', 'bpf', '--netns', `/run/netns/${pair.receiver}`])
  await Promise.all([tool.attached, other.attached])
  connectAttempts(pair, pair.v4.receiver, 9001, 2)
  const [r, o] = await Promise.all([stopTool(tool), stopTool(other)])
  const recs = jsonRecords(r.stdout).filter((x) => x.type === 'retransmit')
  t.ok(recs.length >= 2, `${recs.length} SYN retransmits in the sender namespace`)
  t.equal(new Set(recs.map((x) => x.netns)).size, 1, 'one namespace')
  t.equal(jsonRecords(o.stdout).filter((x) => x.type === 'retransmit').length, 0, 'none in the receiver namespace')
})
