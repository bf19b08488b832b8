// dropwatch on the ftrace backend against nft counters (SPEC §7): a UDP storm
// of known size dropped on the receiver's input hook. dropwatch sees the whole
// host, and other tests may drop with nft at the same time, so the storm is
// dropped by the input chain's *policy* (its own code location in nft_do_chain,
// measured on 6.18: +0x5ad vs +0x3e8 for `drop` rules) with counter rules as
// ground truth; the test keys on NETFILTER_DROP and the location it learns.
import { existsSync, readdirSync } from 'node:fs'
import t from 'tap'
import { sleep } from '../lib/netns.js'
import { jsonRecords } from '../lib/records.js'
import { runCli, startCli } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { connectAttempts } from '../lib/traffic.js'
import { udpStorm } from '../lib/udp-storm.js'
import { requireRoot, testHosts } from '../lib/test-hosts.js'
import { learnLocation, netfilterByLocation, primeNeighbours, STORM_PORT, STORM_RULES, stormCounters, type Drop } from '../lib/dropwatch-storm.js'

requireRoot('network namespaces, tracefs')


const pair = testHosts('dw', 46, STORM_RULES)
t.before(() => primeNeighbours(pair))

const counters = () => stormCounters(pair)


function ourInstances(pid: number | undefined): string[] {
  const dir = '/sys/kernel/tracing/instances'
  if (!existsSync(dir) || pid === undefined) return []
  return readdirSync(dir).filter((n) => n.startsWith(`netdrop_dropwatch_${pid}_`))
}

t.test('IPv4 storm at a rate ftrace keeps up with: exact, nothing lost', async (t) => {
  const tool = startCli('dropwatch', ['-B', 'ftrace', '-j', '-i', '1'])
  await tool.attached
  t.match(tool.stderr(), /^Monitoring for dropped packets \(ftrace, tracepoint skb:kfree_skb, location via [^)]+\)\. Ctrl-C to stop\.$/m)
  const before = counters()
  const storm = udpStorm(pair, pair.v4.receiver, STORM_PORT, 20000, 200, 10)
  await sleep(1500)
  const truth = counters().v4 - before.v4
  const r = await stopTool(tool)
  t.equal(r.code, 0)
  t.equal(truth, 20000, `nft counted the whole storm (${storm.sent} sent in ${storm.ms} ms, ~${Math.round(storm.sent / (storm.ms / 1000))}/s)`)
  const recs = jsonRecords(r.stdout)
  const intervals = recs.filter((x) => x.type === 'interval')
  const summary = recs.filter((x) => x.type === 'summary')
  t.equal(summary.length, 1, 'one summary, last')
  t.equal(recs.at(-1)?.type, 'summary')
  const [location, counted] = learnLocation(netfilterByLocation(recs, 'interval'))
  t.match(location, /^(nft_do_chain|nf_hook_slow)\+0x[0-9a-f]+( \[nf_tables\])?$/, `learned location ${location}`)
  t.equal(counted, truth, 'NETFILTER_DROP at that location == nft counter')
  t.equal(netfilterByLocation(recs, 'summary').get(location), truth, 'summary agrees')
  t.equal(summary[0]?.lost, 0, 'nothing lost')
  t.equal(intervals.reduce((s, x) => s + (x.lost as number), 0), 0)
  t.equal(intervals.reduce((s, x) => s + (x.total as number), 0), summary[0]?.total, 'intervals add up to the summary')
  const row = intervals.flatMap((x) => x.drops as Drop[]).find((d) => d.location === location)
  t.match(row?.address, /^[0-9a-f]{16}$/, 'raw address known')
  t.ok(intervals.every((x) => x.interval_s === 1 || (x.interval_s as number) < 1), 'interval_s')
  t.same(recs.filter((x) => x.type === 'lost'), [], 'no per-event lost records from dropwatch')
  t.same(ourInstances(tool.child.pid), [], 'the tracefs instance is gone')
})

t.test('overload (64 KiB buffers, storm flat out): counted + lost >= counter, never silent', async (t) => {
  const tool = startCli('dropwatch', ['-B', 'ftrace', '-j', '-i', '1', '--buffer-kb', '64', '--reason', 'NETFILTER_DROP'])
  await tool.attached
  const before = counters()
  const storm = udpStorm(pair, pair.v4.receiver, STORM_PORT, 300000, 5000, 0)
  await sleep(1500)
  const truth = counters().v4 - before.v4
  const r = await stopTool(tool)
  t.equal(r.code, 0)
  const recs = jsonRecords(r.stdout)
  const summary = recs.find((x) => x.type === 'summary')
  const [location, counted] = learnLocation(netfilterByLocation(recs, 'interval'))
  const lost = summary?.lost as number
  t.comment(`storm ${storm.sent} in ${storm.ms} ms (~${Math.round(storm.sent / (storm.ms / 1000))}/s); nft ${truth}; counted ${counted} at ${location}; lost ${lost}`)
  t.ok(truth > 0)
  t.ok(counted + lost >= truth, 'counted + lost >= nft counter')
  if (lost > 0) {
    t.match(r.stderr, /dropwatch: WARNING: \d+ events lost \(\d+ in total\)/, 'loss warned on stderr')
    t.equal(recs.filter((x) => x.type === 'interval').reduce((s, x) => s + (x.lost as number), 0), lost, 'interval losses add up to the summary')
  } else {
    t.equal(counted, truth, 'nothing lost, so exact')
  }
})

t.test('IPv6 storm with -6 --reason NETFILTER_DROP while IPv4 storms too: filters in the kernel', async (t) => {
  const tool = startCli('dropwatch', ['-B', 'ftrace', '-j', '-i', '1', '-6', '--reason', 'NETFILTER_DROP'])
  await tool.attached
  const before = counters()
  udpStorm(pair, pair.v4.receiver, STORM_PORT, 3000, 100, 5)
  udpStorm(pair, pair.v6.receiver, STORM_PORT, 5000, 100, 5)
  await sleep(1500)
  const after = counters()
  const r = await stopTool(tool)
  t.equal(after.v4 - before.v4, 3000)
  t.equal(after.v6 - before.v6, 5000)
  const recs = jsonRecords(r.stdout)
  const [location, counted] = learnLocation(netfilterByLocation(recs, 'interval'))
  t.equal(counted, 5000, `IPv6 drops at ${location} == storm6 counter (IPv4 ones filtered out)`)
  const reasons = new Set(recs.filter((x) => x.type === 'interval').flatMap((x) => (x.drops as Drop[]).map((d) => d.reason)))
  t.same([...reasons], ['NETFILTER_DROP'], 'only the asked reason')
})

t.test('closed-port TCP SYNs (IPv4 and IPv6) show NO_SOCKET at tcp_v{4,6}_rcv', async (t) => {
  const tool = startCli('dropwatch', ['-B', 'ftrace', '-i', '1', '--reason', 'NO_SOCKET'])
  await tool.attached
  connectAttempts(pair, pair.v4.receiver, 9003, 3)
  connectAttempts(pair, pair.v6.receiver, 9003, 3)
  await sleep(1200)
  const r = await stopTool(tool)
  const counts = new Map<string, number>()
  for (const m of r.stdout.matchAll(/^ +(\d+) packets dropped at (\S+) \((\w+)\)$/gm)) {
    const key = `${(m[2] ?? '').replace(/\+.*/, '')} ${m[3]}`
    counts.set(key, (counts.get(key) ?? 0) + Number(m[1]))
  }
  t.ok((counts.get('tcp_v4_rcv NO_SOCKET') ?? 0) >= 3, `IPv4: ${counts.get('tcp_v4_rcv NO_SOCKET')} NO_SOCKET at tcp_v4_rcv`)
  t.ok((counts.get('tcp_v6_rcv NO_SOCKET') ?? 0) >= 3, `IPv6: ${counts.get('tcp_v6_rcv NO_SOCKET')} NO_SOCKET at tcp_v6_rcv`)
  t.match(r.stdout, /^\d\d:\d\d:\d\d {2}\d+ drops?$/m, 'interval header lines')
  t.match(r.stdout, /^Total over [\d.]+ s: \d+ drops?, 0 lost$/m, 'whole-run summary')
})

t.test('--prometheus: /metrics totals equal the text output; address in use → exit 1', async (t) => {
  const port = 20000 + (process.pid % 20000)
  const tool = startCli('dropwatch', ['-B', 'ftrace', '-i', '1', '--reason', 'NETFILTER_DROP', '--prometheus', String(port)])
  await tool.attached
  const clash = runCli('dropwatch', ['-B', 'ftrace', '--prometheus', `127.0.0.1:${port}`], 15000)
  t.equal(clash.code, 1, 'second run on the same port: exit 1')
  t.equal(clash.stderr.trim(), `dropwatch: error: --prometheus 127.0.0.1:${port}: address already in use`)
  const before = counters()
  udpStorm(pair, pair.v4.receiver, STORM_PORT, 3000, 100, 5)
  await sleep(2500) // the storm is in at least one printed interval, and one more interval passed
  const truth = counters().v4 - before.v4
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { Accept: 'application/openmetrics-text; version=1.0.0' } })
  const metrics = await res.text()
  const r = await stopTool(tool)
  t.equal(res.status, 200)
  t.match(res.headers.get('content-type'), /^application\/openmetrics-text/)
  t.match(metrics, /\n# EOF\n$/)
  t.match(metrics, /^netdrop_lost_events_total 0$/m)
  const text = new Map<string, number>()
  for (const m of r.stdout.split('\nTotal over')[0]?.matchAll(/^ +(\d+) packets dropped at (.+) \(NETFILTER_DROP\)$/gm) ?? []) {
    text.set(m[2] ?? '', (text.get(m[2] ?? '') ?? 0) + Number(m[1]))
  }
  const [location, counted] = learnLocation(text)
  t.equal(counted, truth, `text output at ${location} == nft counter`)
  const esc = location.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const metric = new RegExp(`^netdrop_drops_total\\{location="${esc}",reason="NETFILTER_DROP"\\} (\\d+)$`, 'm').exec(metrics)
  t.equal(Number(metric?.[1]), counted, '/metrics counter == text output')
})

t.test('-n counts intervals; filters ftrace cannot apply exit 4; --list-backends', async (t) => {
  const r = runCli('dropwatch', ['-B', 'ftrace', '-j', '-i', '0.3', '-n', '2'], 15000)
  t.equal(r.code, 0)
  t.same(jsonRecords(r.stdout).map((x) => x.type), ['interval', 'interval', 'summary'])

  const netns = runCli('dropwatch', ['-B', 'ftrace', '--netns', '/proc/self/ns/net', '-d', '1'])
  t.equal(netns.code, 4)
  t.match(netns.stderr, /^dropwatch: error: .*--netns cannot be applied by ftrace/)
  const dev = runCli('dropwatch', ['-B', 'ftrace', '--by', 'dev', '-d', '1'])
  t.equal(dev.code, 4)
  t.match(dev.stderr, /--by dev: skb:kfree_skb has no device field/)
  const reason = runCli('dropwatch', ['-B', 'ftrace', '--reason', 'NO_SUCH_REASON', '-d', '1'])
  t.equal(reason.code, 4)
  t.match(reason.stderr, /--reason NO_SUCH_REASON: not a drop reason of this kernel/)

  const list = runCli('dropwatch', ['--list-backends'])
  t.equal(list.code, 0)
  t.match(list.stdout, /skb-drop-count: tracepoint skb:kfree_skb\n {4}fields: location:\S+ address protocol family reason/)
})
