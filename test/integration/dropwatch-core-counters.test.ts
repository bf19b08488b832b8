// dropwatch's device and core block against ground truth read independently
// (SPEC §7): a device's own drop counter through netlink (`ip -s -j link`, not
// the /proc/net/dev the tool reads), and the per-CPU backlog drops from
// /proc/net/softnet_stat read by the test around the run.
import { readFileSync, statSync, writeFileSync } from 'node:fs'
import t from 'tap'
import { sleep } from '../lib/netns.js'
import { jsonRecords, type JsonRecord } from '../lib/records.js'
import { startCli } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { udpStorm } from '../lib/udp-storm.js'
import { requireRoot, testHosts } from '../lib/test-hosts.js'
import { primeNeighbours, STORM_PORT, STORM_RULES, type Drop } from '../lib/dropwatch-storm.js'

requireRoot('network namespaces, BPF')

const pair = testHosts('dc', 50, STORM_RULES)

interface DeviceCounter {
  device: string
  direction: string
  counter: string
  count: number
}

/** A device's tx_dropped as netlink reports it. */
function txDropped(ns: string, dev: string): number {
  const [link] = JSON.parse(pair.exec(ns, ['ip', '-s', '-j', 'link', 'show', dev])) as Array<{ stats64: { tx: { dropped: number } } }>
  return link?.stats64.tx.dropped ?? NaN
}

const deviceCount = (rec: JsonRecord | undefined, dev: string, direction: string, counter: string) =>
  ((rec?.device_counters ?? []) as DeviceCounter[]).filter((d) => d.device === dev && d.direction === direction && d.counter === counter).reduce((s, d) => s + d.count, 0)

t.test('a veth whose peer is down: its tx drops, in the namespace given by --netns, each interval adding up to the summary', async (t) => {
  // An extra veth pair in the sender's namespace with one end down: everything
  // sent through the other end is dropped by the device (tx_dropped).
  pair.exec(pair.sender, ['ip', 'link', 'add', 'ndcore0', 'type', 'veth', 'peer', 'name', 'ndcore1'])
  pair.exec(pair.sender, ['ip', 'addr', 'add', '198.19.250.1/24', 'dev', 'ndcore0'])
  pair.exec(pair.sender, ['ip', 'link', 'set', 'ndcore0', 'up'])
  pair.exec(pair.sender, ['ip', 'neigh', 'add', '198.19.250.2', 'lladdr', '02:00:00:00:00:02', 'dev', 'ndcore0'])
  const tool = startCli('dropwatch', ['-B', 'bpf', '-j', '-i', '1', '--netns', `/run/netns/${pair.sender}`])
  await tool.attached
  const before = txDropped(pair.sender, 'ndcore0')
  const sent = udpStorm(pair, '198.19.250.2', STORM_PORT, 300, 50, 200).sent
  await sleep(200)
  const truth = txDropped(pair.sender, 'ndcore0') - before
  const r = await stopTool(tool)
  const recs = jsonRecords(r.stdout)
  const summary = recs.find((x) => x.type === 'summary')
  t.equal(truth, sent, `netlink: ${truth} tx_dropped for ${sent} datagrams sent`)
  t.equal(deviceCount(summary, 'ndcore0', 'tx', 'drop'), truth, 'summary: tx drop on ndcore0 == netlink tx_dropped')
  const intervals = recs.filter((x) => x.type === 'interval')
  t.equal(intervals.reduce((s, x) => s + deviceCount(x, 'ndcore0', 'tx', 'drop'), 0), truth, 'the intervals add up to it')
  t.ok(intervals.filter((x) => deviceCount(x, 'ndcore0', 'tx', 'drop') > 0).length >= 2, 'spread over more than one interval')
  t.equal(summary?.kernel_netns, statSync(`/run/netns/${pair.sender}`).ino, 'counters of the --netns namespace')
  t.equal(deviceCount(summary, pair.dev.sender, 'tx', 'drop'), 0, 'nothing on the devices that did not drop')
})

/** Sum of the `dropped` column of /proc/net/softnet_stat (every CPU). */
function backlogDropped(): number {
  return readFileSync('/proc/net/softnet_stat', 'utf8')
    .trim()
    .split('\n')
    .reduce((s, line) => s + parseInt(line.trim().split(/\s+/)[1] ?? '0', 16), 0)
}

t.test('backlog drops under a storm that overflows netdev_max_backlog: the line equals softnet_stat and the CPU_BACKLOG drops', async (t) => {
  const sysctl = '/proc/sys/net/core/netdev_max_backlog'
  const saved = readFileSync(sysctl, 'utf8').trim()
  t.teardown(() => writeFileSync(sysctl, saved))
  await primeNeighbours(pair)
  // The receiver's veth hands its packets to CPU 1's backlog (RPS), so a
  // flat-out sender on CPU 0 outruns it; a 16-packet backlog overflows.
  // (Without RPS each packet is taken off the backlog right after it is sent.)
  pair.exec(pair.receiver, ['sh', '-c', `echo 2 > /sys/class/net/${pair.dev.receiver}/queues/rx-0/rps_cpus`])
  writeFileSync(sysctl, '16') // one value for the whole host
  const before = backlogDropped()
  const tool = startCli('dropwatch', ['-B', 'bpf', '-j', '-i', '1', '--by', 'reason'])
  await tool.attached
  // Whether CPU 1 falls behind depends on what else it runs: storm again until it did.
  for (let i = 0; i < 8 && backlogDropped() === before; i++) udpStorm(pair, pair.v4.receiver, STORM_PORT, 30000, 30000, 0, 0)
  await sleep(300)
  const r = await stopTool(tool)
  const truth = backlogDropped() - before
  const summary = jsonRecords(r.stdout).find((x) => x.type === 'summary')
  const line = ((summary?.backlog_drops ?? []) as Array<{ cpu: number; count: number }>).reduce((s, b) => s + b.count, 0)
  const traced = ((summary?.drops ?? []) as Drop[]).filter((d) => d.reason === 'CPU_BACKLOG').reduce((s, d) => s + d.count, 0)
  t.ok(truth > 0, `softnet_stat counted ${truth} backlog drops`)
  t.equal(line, truth, 'backlog line == softnet_stat, read by the test around the run')
  t.equal(traced, line, 'the same drops as CPU_BACKLOG at kfree_skb (the block and the table overlap; neither is added to the other)')
  t.equal(summary?.lost, 0)
})
