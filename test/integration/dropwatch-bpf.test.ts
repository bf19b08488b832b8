// dropwatch on the bpf backend (counts kept in a kernel map): exact at the
// highest drop rate this host generates, against the nft counter (SPEC §7).
// As in dropwatch-ftrace.test.ts the storm is dropped by the input chain's
// policy, whose location the test learns at run time.
import t from 'tap'
import { sleep } from '../lib/netns.js'
import { jsonRecords } from '../lib/records.js'
import { startCli } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { udpStorm } from '../lib/udp-storm.js'
import { requireRoot, testHosts } from '../lib/test-hosts.js'
import { learnLocation, netfilterByLocation, primeNeighbours, STORM_PORT, STORM_RULES, stormCounters, type Drop } from '../lib/dropwatch-storm.js'

requireRoot('network namespaces, BPF')

const pair = testHosts('db', 43, STORM_RULES)
t.before(() => primeNeighbours(pair))
const counters = () => stormCounters(pair)



t.test('IPv4 storm flat out: exact, nothing lost, intervals add up to the summary', async (t) => {
  const tool = startCli('dropwatch', ['-B', 'bpf', '-j', '-i', '1'])
  await tool.attached
  t.match(tool.stderr(), /^Monitoring for dropped packets \(bpf, tracepoint skb:kfree_skb/m)
  const before = counters()
  const storm = udpStorm(pair, pair.v4.receiver, STORM_PORT, 200000, 2000, 0)
  await sleep(1200)
  const truth = counters().v4 - before.v4
  const r = await stopTool(tool)
  t.equal(r.code, 0)
  t.ok(truth > 100000, `nft counted ${truth} drops (${storm.sent} sent in ${storm.ms} ms, ~${Math.round(storm.sent / (storm.ms / 1000))}/s)`)
  const recs = jsonRecords(r.stdout)
  const [location, counted] = learnLocation(netfilterByLocation(recs, 'interval').size ? netfilterByLocation(recs, 'interval') : netfilterByLocation(recs, 'summary'))
  const summary = recs.find((x) => x.type === 'summary')
  t.equal(netfilterByLocation(recs, 'summary').get(location), truth, `summary: NETFILTER_DROP at ${location} == nft counter`)
  t.ok(counted <= truth, 'intervals never count more than happened')
  t.equal(summary?.lost, 0, 'nothing lost')
  const intervals = recs.filter((x) => x.type === 'interval')
  t.equal(intervals.reduce((s, x) => s + (x.total as number), 0), summary?.total, 'intervals add up to the summary')
})

t.test('IPv6 with -6 --reason NETFILTER_DROP while IPv4 storms too; --by dev', async (t) => {
  const tool = startCli('dropwatch', ['-B', 'bpf', '-j', '-i', '1', '-6', '--reason', 'NETFILTER_DROP'])
  const byDev = startCli('dropwatch', ['-B', 'bpf', '-j', '-i', '1', '--by', 'dev', '--reason', 'NETFILTER_DROP'])
  await Promise.all([tool.attached, byDev.attached])
  const before = counters()
  udpStorm(pair, pair.v4.receiver, STORM_PORT, 3000, 100, 5)
  udpStorm(pair, pair.v6.receiver, STORM_PORT, 5000, 100, 5)
  await sleep(1200)
  const after = counters()
  const [r, rd] = await Promise.all([stopTool(tool), stopTool(byDev)])
  const recs = jsonRecords(r.stdout)
  const [location, counted] = learnLocation(netfilterByLocation(recs, 'summary'))
  t.equal(counted, after.v6 - before.v6, `IPv6 drops at ${location} == storm6 counter, IPv4 filtered out in the kernel`)
  const devs = new Map<string, number>()
  for (const d of (jsonRecords(rd.stdout).find((x) => x.type === 'summary')?.drops ?? []) as Drop[]) {
    devs.set(String(d.dev), (devs.get(String(d.dev)) ?? 0) + d.count)
  }
  const receiverDev = [...devs].sort((a, b) => b[1] - a[1])[0]
  t.match(receiverDev?.[0], /^nv\d+dbr$/, `grouped by the receiver's veth (${receiverDev?.[0]})`)
  t.ok((receiverDev?.[1] ?? 0) >= 8000, 'both storms on that device')
})

t.test('--netns: only drops in the receiver namespace (in the kernel)', async (t) => {
  const tool = startCli('dropwatch', ['-B', 'bpf', '-j', '-i', '1', '--netns', `/run/netns/${pair.receiver}`])
  const sender = startCli('dropwatch', ['-B', 'bpf', '-j', '-i', '1', '--netns', `/run/netns/${pair.sender}`])
  await Promise.all([tool.attached, sender.attached])
  const before = counters()
  udpStorm(pair, pair.v4.receiver, STORM_PORT, 2000, 100, 5)
  await sleep(1200)
  const truth = counters().v4 - before.v4
  const [r, rs] = await Promise.all([stopTool(tool), stopTool(sender)])
  t.equal(learnLocation(netfilterByLocation(jsonRecords(r.stdout), 'summary'))[1], truth, 'receiver namespace: the storm')
  t.equal(netfilterByLocation(jsonRecords(rs.stdout), 'summary').size, 0, 'sender namespace: no NETFILTER_DROP')
})
