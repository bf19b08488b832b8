// Each tool's summary puts the kernel's own counters of the traced namespace
// beside what it saw (issue: "it shows nothing — are there really no drops?").
// The test reads the same counters itself and checks both: the tool's reading
// and the identity the tool claims (SPEC §7).
import t from 'tap'
import { counterDeltas, sentRetransmits } from '../lib/ground-truth.js'
import { sleep } from '../lib/netns.js'
import { jsonRecords } from '../lib/records.js'
import { startCli } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { bulkTransfer, flowsGone } from '../lib/traffic.js'
import { requireRoot, testHosts } from '../lib/test-hosts.js'
import { RETRANSMIT_RULES } from '../lib/retransmit-rules.js'

requireRoot('network namespaces, BPF, tracefs')

const pair = testHosts('kc', 49, RETRANSMIT_RULES)

for (const tso of [true, false]) {
  t.test(`tcpretrans -B bpf, TSO ${tso ? 'on (gso_max_segs default)' : 'off (gso_max_segs 1)'}: Σ segs == ΔTcpRetransSegs − ΔTCPRetransFail, in the summary too`, async (t) => {
    pair.exec(pair.sender, ['ip', 'link', 'set', pair.dev.sender, 'gso_max_segs', tso ? '65535' : '1'])
    t.teardown(() => pair.exec(pair.sender, ['ip', 'link', 'set', pair.dev.sender, 'gso_max_segs', '1']))
    const tool = startCli('tcpretrans', ['-j', '-B', 'bpf', '--rate-limit', '0', '--netns', `/run/netns/${pair.sender}`])
    await tool.attached
    const truth = counterDeltas(pair)
    await bulkTransfer(pair, pair.v4.receiver, 5201, tso ? '16M' : '4M')
    await flowsGone(pair, 5201)
    await sleep(300)
    const d = truth()
    const r = await stopTool(tool)
    t.equal(r.code, 0)
    const recs = jsonRecords(r.stdout)
    const rt = recs.filter((x) => x.type === 'retransmit')
    const segs = rt.reduce((s, x) => s + (x.segs as number), 0)
    const expected = sentRetransmits(d)
    t.ok(expected > 0, `kernel counted ${expected} retransmitted segments`)
    t.equal(segs, expected, `Σ segs ${segs} over ${rt.length} records == ${expected}`)
    if (tso) t.ok(rt.some((x) => (x.segs as number) > 1), 'with TSO some skbs carry several segments')
    else t.ok(rt.every((x) => x.segs === 1), 'without TSO one segment per record')
    const summary = recs.find((x) => x.type === 'summary')
    const k = summary?.kernel_counters as Record<string, number> | undefined
    t.equal((k?.TcpRetransSegs ?? 0) - (k?.TcpExtTCPRetransFail ?? 0), expected, "the tool's own reading of the counters agrees")
    t.equal(summary?.segs, segs, 'summary segs == Σ segs')
  })
}
