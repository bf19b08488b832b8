// The bpf backend of all three tools on the guests' older kernels (5.10: no
// drop reasons, no rx_sk, no BPF_FETCH atomics; 6.1: reasons), run inside the
// 5.10 / 6.1 guests by `npm run test:legacy`. The host tests cover 6.18 only,
// and a program the 5.10 verifier rejects (a fetching atomic did, until this
// test) makes `--backend auto` fall back without a word of it failing here.
// Ground truth (SPEC §7): nft rule counters, the test's own connects, and the
// sender's retransmit counters.
import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'
import { dataPathDrops } from '../lib/datapath-drops.js'
import { delta, nftCounter, sleep } from '../lib/netns.js'
import { counterLabel, TCP_DATA_PATH_COUNTERS } from '../../lib/kernel/tcp-drop-counters.js'
import { jsonRecords, retransmitRecords, type JsonRecord } from '../lib/records.js'
import { startCli } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { counterDeltas } from '../lib/ground-truth.js'
import { connectAttempts } from '../lib/traffic.js'
import { udpStorm } from '../lib/udp-storm.js'
import { testHosts } from '../lib/test-hosts.js'
import { dropsByLocation, learnLocation, netfilterByLocation, primeNeighbours, STORM_PORT, STORM_RULES, stormCounters } from '../lib/dropwatch-storm.js'

if (process.getuid?.() !== 0 || !existsSync('/sys/kernel/tracing/kprobe_events') || !existsSync('/sys/kernel/btf/vmlinux')) {
  t.plan(0, 'legacy tests need root and a guest kernel with BTF (run them with npm run test:legacy)')
  process.exit(0)
}
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()
const [major = 0, minor = 0] = kernel.split('.').map(Number)
const HAS_REASONS = major > 5 || (major === 5 && minor >= 17)

// SYNs to 9001 die at a counted rule; the dropwatch storm has its own table.
const pair = testHosts(
  'lb',
  43,
  `table inet ndb {
    chain input {
      type filter hook input priority 0;
      tcp dport 9001 counter drop comment "blackhole"
    }
  }
  ${STORM_RULES}`,
)
t.before(() => primeNeighbours(pair))

const drops = (out: string) => jsonRecords(out).filter((r) => r.type === 'drop')

t.test(`${kernel}: tcpdrop -B bpf: SYNs dropped by nft == the rule counter, with stacks`, async (t) => {
  const tool = startCli('tcpdrop', ['-j', '-B', 'bpf', '--port', '9001'])
  await tool.attached
  const before = nftCounter(pair, pair.receiver, 'blackhole')
  connectAttempts(pair, pair.v4.receiver, 9001, 2) // each retransmits its SYN until the script ends
  await sleep(500)
  const counted = nftCounter(pair, pair.receiver, 'blackhole') - before
  const r = await stopTool(tool)
  t.equal(r.code, 0, 'exit 0')
  const recs = drops(r.stdout)
  t.ok(counted >= 4, `nft dropped ${counted} SYNs`)
  t.equal(recs.length, counted, `tcpdrop records ${recs.length} == nft counter ${counted}`)
  t.ok(recs.every((d) => d.saddr === pair.v4.sender && d.daddr === pair.v4.receiver && d.dport === 9001), 'tuple of the dropped SYNs')
  t.ok(recs.every((d) => (d.tcpflags as string[]).join() === 'SYN'), 'flags from the header')
  t.ok(recs.every((d) => d.reason === (HAS_REASONS ? 'NETFILTER_DROP' : null)), HAS_REASONS ? 'reason NETFILTER_DROP' : 'no reasons before 5.17')
  t.ok(recs.every((d) => typeof d.location === 'string' && /^nf_hook_slow\+0x|^nft_do_chain/.test(d.location as string)), 'location symbolized')
  t.ok(recs.every((d) => Array.isArray(d.stack) && (d.stack as string[]).length > 0), 'stacks recorded')
  t.match(jsonRecords(r.stdout).find((x) => x.type === 'summary'), { total: counted, lost: 0 })
})

for (const fam of [4, 6] as const) {
  t.test(`${kernel}: tcpdrop -B bpf: IPv${fam} SYNs to a closed port, one drop per connect`, async (t) => {
    const a = fam === 4 ? pair.v4 : pair.v6
    const tool = startCli('tcpdrop', ['-j', '-B', 'bpf', '--no-stack', '--port', '9003'])
    await tool.attached
    // Where tcp_drop() is out of line (5.10-legacy-btf) its kprobe also sees the
    // client free each RST|ACK in SYN_SENT: one record more per connect, never two.
    // The hooks are named in the banner's first line (the next ones say what is not seen, and why).
    const viaTcpDrop = /^Tracing .*kprobe tcp_drop/m.test(tool.stderr())
    connectAttempts(pair, a.receiver, 9003, 3)
    await sleep(500)
    const all = drops((await stopTool(tool)).stdout)
    const recs = all.filter((d) => d.state === null)
    const resets = all.filter((d) => d.state === 'CLOSE')
    t.equal(recs.length, 3, 'three drops of SYNs')
    t.equal(resets.length, viaTcpDrop ? 3 : 0, viaTcpDrop ? 'and three RST|ACKs through tcp_drop()' : 'and no other drop (no tcp_drop kprobe here)')
    t.equal(all.length, recs.length + resets.length, 'nothing else')
    t.ok(recs.every((d) => d.family === fam && d.saddr === a.sender && d.daddr === a.receiver && d.state === null), 'wire tuple, no socket')
    t.equal(new Set(recs.map((d) => d.sport)).size, 3, 'three distinct source ports')
    if (HAS_REASONS) t.ok(recs.every((d) => d.reason === 'NO_SOCKET'), 'reason NO_SOCKET')
  })
}

t.test(`${kernel}: tcpretrans -B bpf: SYN retransmits == ΔTcpRetransSegs − ΔTCPRetransFail`, async (t) => {
  const tool = startCli('tcpretrans', ['-j', '-B', 'bpf', '--rate-limit', '0', '--port', '9001'])
  await tool.attached
  const truth = counterDeltas(pair)
  connectAttempts(pair, pair.v4.receiver, 9001, 2)
  await sleep(500)
  const d = truth()
  const r = await stopTool(tool)
  t.equal(r.code, 0, 'exit 0')
  const rt = retransmitRecords(r.stdout).filter((x) => x.type === 'retransmit')
  const expected = (d.get('TcpRetransSegs') ?? 0) - (d.get('TcpExtTCPRetransFail') ?? 0)
  t.ok(expected >= 2, `kernel counted ${expected} SYN retransmits`)
  t.equal(rt.length, expected, `records ${rt.length} == ${expected}`)
  t.ok(rt.every((x) => x.laddr === pair.v4.sender && x.raddr === pair.v4.receiver && x.rport === 9001 && x.state === 'SYN_SENT'), 'tuple and state')
})

t.test(`${kernel}: dropwatch -B bpf: the storm's location counts what nft counted`, async (t) => {
  const tool = startCli('dropwatch', ['-j', '-B', 'bpf', '-i', '1'])
  await tool.attached
  const before = stormCounters(pair)
  const storm = udpStorm(pair, pair.v4.receiver, STORM_PORT, 5000, 100, 1)
  await sleep(1500)
  const truth = stormCounters(pair).v4 - before.v4
  const r = await stopTool(tool)
  t.equal(r.code, 0, 'exit 0')
  t.ok(truth > 0, `nft dropped ${truth} (${storm.sent} sent)`)
  const recs: JsonRecord[] = jsonRecords(r.stdout)
  // Without reasons (5.10) every row at the storm's location is the storm.
  const byLocation = HAS_REASONS ? netfilterByLocation(recs, 'interval') : dropsByLocation(recs, 'interval')
  const [where, counted] = learnLocation(byLocation)
  t.equal(counted, truth, `${counted} at ${where} == nft ${truth}`)
  t.ok(recs.filter((x) => x.type === 'interval').every((x) => x.lost === 0), 'nothing lost')
})

// Last in the file: the scenario changes the receiver's TCP buffer sysctls.
t.test(`${kernel}: tcpdrop -B bpf: the data-path drop counters in the summary, and whether bpf sees those drops here`, async (t) => {
  const port = 9131
  const tool = startCli('tcpdrop', ['--no-stack', '-B', 'bpf', '--netns', `/run/netns/${pair.receiver}`, '--port', String(port)])
  await tool.attached
  const before = pair.counters(pair.receiver)
  // The scenario made no drop once in a slow (TCG) guest: then once more. The
  // check is of the counters over the whole run, so a second try costs it nothing.
  let skDrops = 0
  for (let attempt = 0; attempt < 2 && skDrops === 0; attempt++) skDrops = await dataPathDrops(pair, 'rcvbuf-full', pair.v4.receiver, port)
  await sleep(300)
  const after = pair.counters(pair.receiver)
  const r = await stopTool(tool)
  // What the banner says bpf cannot see on this kernel, the summary must say of the counters.
  const blind = /^Not seen by bpf: .*TCP data-path drops/m.test(r.stderr)
  const moved = TCP_DATA_PATH_COUNTERS.map((n) => [counterLabel(n), delta(before, after, n)] as const).filter(([, v]) => v > 0)
  t.ok(moved.length > 0, `data-path counters moved: ${moved.map(([n, v]) => `${n} ${v}`).join(', ')} (sk_drops ${skDrops})`)
  const line = /^Kernel counters \(netns \d+\), TCP segments dropped: (.*)$/m.exec(r.stderr)?.[1] ?? ''
  for (const [n, v] of moved) t.match(line, new RegExp(`\\b${n} ${v}\\b`), `the summary lists ${n} ${v}`)
  if (blind) t.match(r.stderr, /^ {2}kernel counted .*; bpf cannot see these data-path drops on this kernel/m, 'and says bpf cannot see them here')
  else t.notMatch(r.stderr, /cannot see these data-path drops/, 'bpf sees them here: nothing said')
  if (/^5\.10\.0-/.test(kernel)) t.ok(blind, "Debian's 5.10 inlines tcp_drop(): bpf cannot see data-path drops there")
})
