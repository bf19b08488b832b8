// dropwatch on the ftrace backend of older kernels, run inside the 5.10 / 6.1
// guests by `npm run test:legacy`. Where the kernel has hist triggers (Debian
// 6.1; 5.10 is built without them) the kernel counts per location and the
// counts are exact at any rate; without them (or with NETDROP_FTRACE_HIST=0)
// dropwatch counts trace lines, exact when it keeps up and never silent when
// it does not. Ground truth: the nft counter of the storm (SPEC §7).
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { sleep } from '../lib/netns.js'
import { jsonRecords } from '../lib/records.js'
import { runCli, startCli } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { udpStorm } from '../lib/udp-storm.js'
import { testHosts } from '../lib/test-hosts.js'
import { dropsByLocation, learnLocation, primeNeighbours, STORM_PORT, STORM_RULES, stormCounters } from '../lib/dropwatch-storm.js'

const TRACEFS = '/sys/kernel/tracing'
if (process.getuid?.() !== 0 || !existsSync(`${TRACEFS}/kprobe_events`)) {
  t.plan(0, 'legacy tests need root and a guest kernel (run them with npm run test:legacy)')
  process.exit(0)
}
const HIST = existsSync(`${TRACEFS}/events/skb/kfree_skb/hist`)
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()

const pair = testHosts('lw', 42, STORM_RULES)
t.before(() => primeNeighbours(pair))

/** dropwatch -B ftrace (with `env` added) during a UDP storm; the nft counter's growth as truth. */
async function stormUnder(env: NodeJS.ProcessEnv, count: number, burst: number, gapMs: number) {
  const tool = startCli('dropwatch', ['-B', 'ftrace', '-j', '-i', '1'], { ...process.env, ...env })
  await tool.attached
  const before = stormCounters(pair)
  const storm = udpStorm(pair, pair.v4.receiver, STORM_PORT, count, burst, gapMs)
  await sleep(1500)
  const truth = stormCounters(pair).v4 - before.v4
  return { tool, r: await stopTool(tool), truth, storm }
}

const ourInstances = (pid: number | undefined) => readdirSync(`${TRACEFS}/instances`).filter((n) => n.startsWith(`netdrop_dropwatch_${pid}_`))

t.test(`${kernel}: --list-backends says how ftrace counts (hist triggers: ${HIST})`, async (t) => {
  const r = runCli('dropwatch', ['--list-backends'], 60000)
  t.equal(r.code, 0)
  const ftrace = r.stdout.split('\n').filter((l) => /location:/.test(l)).join('\n')
  if (HIST) t.match(ftrace, /location:hist\(\.sym-offset\)/)
  else t.notMatch(ftrace, /hist/)
})

t.test(`${kernel}: hist-trigger counting is exact at the highest rate the guest makes`, { skip: HIST ? false : `${kernel} has no hist triggers` }, async (t) => {
  const { tool, r, truth, storm } = await stormUnder({}, 30000, 1000, 0)
  t.equal(r.code, 0)
  t.ok(truth > 0, `nft dropped ${truth} (${storm.sent} sent in ${storm.ms} ms)`)
  const recs = jsonRecords(r.stdout)
  const [location, counted] = learnLocation(dropsByLocation(recs, 'interval')) // whatever the reason (5.10 has none)
  t.match(location, /^(nft_do_chain|nf_hook_slow)\+0x[0-9a-f]+( \[nf_tables\])?$/, `learned location ${location}`)
  t.equal(counted, truth, 'counted at that location == nft counter')
  const summary = recs.find((x) => x.type === 'summary')
  t.equal(summary?.lost, 0, 'nothing lost')
  t.same(ourInstances(tool.child.pid), [], 'the instance (and its trigger) is gone')
})

t.test(`${kernel}: trace_pipe counting (${HIST ? 'NETDROP_FTRACE_HIST=0' : 'no hist triggers'}): counted + lost covers the storm`, async (t) => {
  const { tool, r, truth, storm } = await stormUnder({ NETDROP_FTRACE_HIST: '0' }, 5000, 100, 10)
  t.equal(r.code, 0)
  t.ok(truth > 0, `nft dropped ${truth} (${storm.sent} sent in ${storm.ms} ms)`)
  const recs = jsonRecords(r.stdout)
  const [location, counted] = learnLocation(dropsByLocation(recs, 'interval')) // whatever the reason (5.10 has none)
  const lost = (recs.find((x) => x.type === 'summary')?.lost as number) ?? -1
  t.ok(counted <= truth && counted + lost >= truth, `counted ${counted} at ${location} + lost ${lost} covers ${truth}`)
  t.same(ourInstances(tool.child.pid), [], 'the instance is gone')
})
