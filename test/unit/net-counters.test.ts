// The kernel's counters as the tools read them, from real /proc/net files
// (captured on 6.18 in a namespace whose veth `va` dropped 45 packets on send
// because its peer was down, and in a fresh Debian 5.10 guest), and dropwatch's device and
// core block built from them.
import { readFileSync, statSync } from 'node:fs'
import t from 'tap'
import { backlogDeltas, deviceDeltas, mibDeltas, NetCounters, netnsPath, parseNetDev, parseSnmp, parseSoftnet, type CounterSnapshot } from '../../lib/kernel/net-counters.js'
import { coreBlock, coreFamilies, coreJson, CoreTotals } from '../../lib/tools/core-counters.js'
import { exposition } from '../../lib/prometheus.js'

const fixture = (kernel: string, name: string) => readFileSync(new URL(`../fixtures/kernel-${kernel}/proc-net-${name}.txt`, import.meta.url), 'utf8')

t.test('6.18 /proc/net/dev: the loss columns of each device', async (t) => {
  const dev = parseNetDev(fixture('6.18', 'dev'))
  t.equal(dev.get('va/tx/drop'), 45)
  t.equal(dev.get('va/rx/drop'), 0)
  t.equal(dev.get('lo/tx/carrier'), 0)
  t.notOk(dev.has('va/tx/errs'), 'errs is the sum of the others: not read')
  t.notOk(dev.has('va/tx/colls'), 'collisions lose nothing: not read')
  t.equal(dev.size, 3 * 6, 'three devices, three rx and three tx columns each')
})

t.test('6.18 softnet_stat: dropped per CPU, CPU from its own column', async (t) => {
  t.same([...parseSoftnet(fixture('6.18', 'softnet_stat'))], [
    [0, 0x16],
    [1, 0],
  ])
  // 5.10 prints 13 columns, the CPU last.
  t.same([...parseSoftnet(fixture('5.10', 'softnet_stat'))], [
    [0, 0],
    [1, 0],
  ])
  // A kernel that prints no CPU column: rows in order of the online CPUs.
  t.same([...parseSoftnet('00000010 00000002 00000000\n00000011 00000005 00000000\n')], [
    [0, 2],
    [1, 5],
  ])
})

for (const kernel of ['5.10', '6.18']) {
  t.test(`${kernel} snmp and netstat: nstat names`, async (t) => {
    const mib = parseSnmp(fixture(kernel, 'snmp'))
    for (const [k, v] of parseSnmp(fixture(kernel, 'netstat'))) mib.set(k, v)
    t.ok(mib.has('TcpRetransSegs'))
    t.ok(mib.has('TcpExtTCPZeroWindowDrop'))
    t.ok(mib.has('IpExtInOctets'))
    t.equal(mib.get('TcpRtoAlgorithm'), 1)
    t.equal(mib.get('TcpMaxConn'), -1)
  })
}

t.test('5.10 /proc/net/dev: same columns', async (t) => {
  t.same([...parseNetDev(fixture('5.10', 'dev'))].filter(([k]) => k.startsWith('lo/tx')), [
    ['lo/tx/drop', 0],
    ['lo/tx/fifo', 0],
    ['lo/tx/carrier', 0],
  ])
})

const snap = (devices: Record<string, number>, backlog: Array<[number, number]>, mib: Record<string, number> = {}): CounterSnapshot => ({
  mib: new Map(Object.entries(mib)),
  devices: new Map(Object.entries(devices)),
  backlog: new Map(backlog),
})

t.test('deltas: only what moved; a new device counts from 0', async (t) => {
  const a = snap({ 'va/tx/drop': 45, 'eth0/rx/drop': 7 }, [[0, 22], [1, 0]], { TcpRetransSegs: 10 })
  const b = snap({ 'va/tx/drop': 65, 'eth0/rx/drop': 7, 'vb/rx/fifo': 3 }, [[0, 22], [1, 4]], { TcpRetransSegs: 12 })
  t.same(deviceDeltas(a, b), [
    { device: 'va', direction: 'tx', counter: 'drop', count: 20 },
    { device: 'vb', direction: 'rx', counter: 'fifo', count: 3 },
  ])
  t.same([...backlogDeltas(a, b)], [[1, 4]])
  t.same([...mibDeltas(a, b)], [['TcpRetransSegs', 2]])
})

t.test('dropwatch device and core block: intervals add up to the run', async (t) => {
  const i1 = { netns: 7, devices: [{ device: 'va', direction: 'tx' as const, counter: 'drop', count: 20 }], backlog: new Map([[1, 4]]) }
  const run = { netns: 7, devices: [{ device: 'va', direction: 'tx' as const, counter: 'drop', count: 25 }], backlog: new Map([[1, 4]]) }
  const totals = new CoreTotals()
  totals.add(i1)
  t.same(totals.rest(run), { netns: 7, devices: [{ device: 'va', direction: 'tx', counter: 'drop', count: 5 }], backlog: new Map() }, 'the rest: since the last interval')
  t.equal(
    coreBlock(i1),
    "Device and core counters (netns 7, the kernel's own; they may count some of the drops above again):\n" +
      '      20 tx drop on va\n' +
      '       4 backlog drops on CPU 1\n',
  )
  t.equal(coreBlock({ netns: 7, devices: [], backlog: new Map() }), '', 'nothing moved: no block')
  t.same(coreJson(i1), { kernel_netns: 7, device_counters: [{ device: 'va', direction: 'tx', counter: 'drop', count: 20 }], backlog_drops: [{ cpu: 1, count: 4 }] })
  t.same(coreJson(null), { kernel_netns: null, device_counters: null, backlog_drops: null }, 'unreadable: null, not zero')
  const text = exposition(coreFamilies(totals.counts()), 'openmetrics')
  t.match(text, /^netdrop_device_drops_total\{device="va",direction="tx",counter="drop"\} 20$/m)
  t.match(text, /^netdrop_backlog_drops_total\{cpu="1"\} 4$/m)
})

t.test("a namespace with no path to it: no counters, never this process's own in its place", async (t) => {
  const own = statSync('/proc/self/ns/net').ino
  t.equal(netnsPath(own), null, "this process's own: no setns needed")
  t.equal(netnsPath(null), null)
  const nowhere = 4026599999 // an inode no namespace file here has
  t.equal(netnsPath(nowhere), undefined)
  const counters = new NetCounters(nowhere)
  t.equal(counters.snapshot(), null, "unreadable, not the wrong namespace's")
  t.equal(counters.between(counters.snapshot(), counters.snapshot()), null)
  t.not(new NetCounters(null).snapshot(), null, "this process's own namespace reads")
})
