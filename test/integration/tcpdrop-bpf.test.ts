// tcpdrop on the bpf backend against kernel ground truth (SPEC §7): nft rule
// counters and the connects the test makes.
import { execFileSync } from 'node:child_process'
import t from 'tap'
import { bpfHeldBy } from '../lib/bpf-held.js'
import { recordInitContextHits } from '../lib/init-context-hits.js'
import { nftCounter, sleep } from '../lib/netns.js'
import { jsonRecords, type JsonRecord } from '../lib/records.js'
import { startCli } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { counterDeltas } from '../lib/ground-truth.js'
import { bulkTransfer, connectAttempts, flowsGone } from '../lib/traffic.js'
import { requireRoot, testHosts } from '../lib/test-hosts.js'

requireRoot('network namespaces, BPF')

const pair = testHosts('dr', 41, `table inet ndt {
    chain input {
      type filter hook input priority 0;
      tcp dport 9001 counter drop comment "syn-drop"
      tcp dport 9005 counter drop comment "storm"
      udp dport 9006 counter drop comment "udp"
      tcp dport 5201 meta length > 200 numgen random mod 40 == 0 counter drop comment "bulk"
    }
  }`)
// Established-flow drops carry their socket only with early demux (SPEC §7).
pair.exec(pair.receiver, ['sysctl', '-qw', 'net.ipv4.tcp_early_demux=1'])

const drops = (out: string) => jsonRecords(out).filter((r) => r.type === 'drop')
const ours = (recs: JsonRecord[], port: number) => recs.filter((r) => r.dport === port || r.sport === port)

// Where a flow's receiving socket is in its life, in order: ESTABLISHED, then
// closing, then closed (a reset), then gone (no socket: state null). iperf3's
// server closes its sockets when the client says the test is over, which can be
// before the client's last retransmits of what nft dropped: the last drops of a
// flow may find its socket anywhere past ESTABLISHED.
const LIFE: Record<string, number> = {
  ESTABLISHED: 0,
  FIN_WAIT1: 1,
  FIN_WAIT2: 1,
  CLOSING: 1,
  TIME_WAIT: 1,
  CLOSE_WAIT: 1,
  LAST_ACK: 1,
  CLOSE: 2,
  null: 3,
}

/** The first drop whose state goes back in its flow's life (or is no state a
 *  flow's receiving socket can be in), or null. */
function stateOrderViolation(recs: JsonRecord[]): string | null {
  const flows = new Map<string, JsonRecord[]>()
  for (const d of recs) {
    const flow = `${d.saddr}:${d.sport} > ${d.daddr}:${d.dport}`
    if (!flows.has(flow)) flows.set(flow, [])
    flows.get(flow)?.push(d)
  }
  for (const [flow, ds] of flows) {
    let reached = 0
    for (const d of ds.sort((a, b) => Number(a.ts_ns) - Number(b.ts_ns))) {
      const at = LIFE[String(d.state)]
      if (at === undefined || at < reached) return `${flow}: ${d.state} at ${d.ts_ns}`
      reached = at
    }
  }
  return null
}

/** `connects` connects to the black-holed port 9005 (plus `udp` datagrams to
 *  9006), ended after `holdMs`. Every SYN the sender puts on the wire dies in
 *  the receiver: at the nft rule, or earlier when the burst overflows the
 *  backlog queue (CPU_BACKLOG, which nft never sees). So the ground truth for
 *  "all drops" is the sender's SYNs (ActiveOpens + TCPSynRetrans), and the nft
 *  counter is the truth for the NETFILTER_DROP ones. */
async function synStorm(connects: number, holdMs: number, udp = 0): Promise<{ syns: number; nft: number; udp: number }> {
  const before = { nft: nftCounter(pair, pair.receiver, 'storm'), udp: nftCounter(pair, pair.receiver, 'udp') }
  const sent = counterDeltas(pair, ['TcpActiveOpens', 'TcpExtTCPSynRetrans'])
  const script = `
    const net = require('net'), dgram = require('dgram');
    const u = dgram.createSocket('udp4'); const buf = Buffer.alloc(64);
    let sent = 0; const pump = () => { for (let i = 0; i < 50 && sent < ${udp}; i++, sent++) u.send(buf, 9006, '${pair.v4.receiver}'); if (sent < ${udp}) setImmediate(pump); else u.close() }; pump();
    for (let i = 0; i < ${connects}; i++) { const s = net.connect({ host: '${pair.v4.receiver}', port: 9005 }); s.on('error', () => {}); }
    setTimeout(() => process.exit(0), ${holdMs});`
  pair.exec(pair.sender, [process.execPath, '-e', script], { timeoutMs: 20000 })
  await sleep(200) // what is still queued on the veth reaches its fate
  const d = sent()
  return {
    syns: (d.get('TcpActiveOpens') ?? 0) + (d.get('TcpExtTCPSynRetrans') ?? 0),
    nft: nftCounter(pair, pair.receiver, 'storm') - before.nft,
    udp: nftCounter(pair, pair.receiver, 'udp') - before.udp,
  }
}

for (const fam of [4, 6] as const) {
  t.test(`IPv${fam}: SYNs to a closed port — one NO_SOCKET drop per connect, exact tuple`, async (t) => {
    const a = fam === 4 ? pair.v4 : pair.v6
    const tool = startCli('tcpdrop', ['-j', '-B', 'bpf', '--no-stack', '--port', '9003'])
    await tool.attached
    connectAttempts(pair, a.receiver, 9003, 3)
    await sleep(300)
    const r = await stopTool(tool)
    t.equal(r.code, 0)
    const recs = drops(r.stdout)
    t.equal(recs.length, 3, 'three drops')
    for (const d of recs) {
      t.match(d, { family: fam, saddr: a.sender, daddr: a.receiver, dport: 9003, state: null, tcpflags: ['SYN'], reason: 'NO_SOCKET', backend: 'bpf' })
      t.match(d.location, /^tcp_v[46]_rcv\+0x/, 'location symbolized')
    }
    t.equal(new Set(recs.map((d) => d.sport)).size, 3, 'three distinct source ports')
  })
}

t.test('SYNs dropped by nft: drops == rule counter, reason NETFILTER_DROP, stacks by default', async (t) => {
  const tool = startCli('tcpdrop', ['-j', '-B', 'bpf', '--port', '9001'])
  await tool.attached
  const before = nftCounter(pair, pair.receiver, 'syn-drop')
  connectAttempts(pair, pair.v4.receiver, 9001, 4)
  await sleep(300)
  const counted = nftCounter(pair, pair.receiver, 'syn-drop') - before
  const r = await stopTool(tool)
  const recs = drops(r.stdout)
  t.ok(counted >= 4, `nft dropped ${counted} SYNs`)
  t.equal(recs.length, counted, 'tcpdrop records == nft counter')
  t.ok(recs.every((d) => d.reason === 'NETFILTER_DROP'))
  t.ok(recs.every((d) => Array.isArray(d.stack) && (d.stack as string[]).length > 0), 'stacks recorded')
  t.ok(
    recs.every((d) => !(d.stack as string[]).some((f) => /^(bpf_prog_|bpf_trace_run|__traceiter_|trace_event_raw)/.test(f))),
    'tracing frames skipped',
  )
  const summary = jsonRecords(r.stdout).find((x) => x.type === 'summary')
  t.match(summary, { total: counted, lost: 0 })
})

t.test('a storm of SYNs: count equals the nft counter, nothing lost; UDP drops are not reported', async (t) => {
  const tool = startCli('tcpdrop', ['-j', '-B', 'bpf', '--no-stack', '--rate-limit', '0', '--addr', pair.v4.receiver])
  await tool.attached
  const truth = await synStorm(1500, 2500, 2000)
  const r = await stopTool(tool)
  const recs = drops(r.stdout)
  const counted = truth.nft
  t.ok(counted >= 1500, `nft dropped ${counted} SYNs`)
  t.ok(truth.udp > 0, `nft dropped ${truth.udp} UDP datagrams`)
  // The kernel skips a program that a softirq interrupts on the same CPU
  // (recursion misses); tcpdrop counts those as lost, so nothing is silent.
  const lost = (jsonRecords(r.stdout).find((x) => x.type === 'summary')?.lost as number) ?? -1
  const storm = ours(recs, 9005)
  const byNft = storm.filter((d) => d.reason === 'NETFILTER_DROP').length
  t.equal(storm.length + lost, truth.syns, `every SYN sent (${truth.syns}) reported dropped once or counted lost (${lost} lost)`)
  t.ok(byNft <= counted && byNft + lost >= counted, `NETFILTER_DROP records (${byNft}) match the nft counter (${counted})`)
  t.same(storm.map((d) => d.reason).filter((x) => x !== 'NETFILTER_DROP' && x !== 'CPU_BACKLOG'), [], 'the other drops are backlog overflows')
  t.ok(lost >= 0 && lost <= counted / 100, 'at most 1 % lost')
  t.equal(new Set(ours(recs, 9005).map((d) => `${d.sport} ${d.ts_ns}`)).size, ours(recs, 9005).length, 'no duplicates')
  t.equal(ours(recs, 9006).length, 0, 'UDP drops are not TCP drops')
})

t.test('--rate-limit: printed + suppressed == ground truth', async (t) => {
  const tool = startCli('tcpdrop', ['-j', '-B', 'bpf', '--no-stack', '--rate-limit', '100', '--port', '9005'])
  await tool.attached
  const truth = await synStorm(800, 600)
  await sleep(1200) // let one per-second suppressed report go out
  const r = await stopTool(tool)
  const all = jsonRecords(r.stdout)
  const printed = drops(r.stdout).length
  const summary = all.find((x) => x.type === 'summary') as { suppressed?: number } | undefined
  t.ok(printed <= 300, `${printed} lines printed under a 100/s limit`)
  t.ok(all.some((x) => x.type === 'suppressed'), 'a suppressed record was emitted')
  const lost = (summary as { lost?: number } | undefined)?.lost ?? -1
  t.equal(printed + (summary?.suppressed ?? 0) + lost, truth.syns, `printed + suppressed + lost (${lost}) == SYNs sent`)
})

t.test('established-flow drops: state, flags, owner of the receiving socket', async (t) => {
  const tool = startCli('tcpdrop', ['-j', '-B', 'bpf', '--no-stack', '--owner', '--port', '5201'])
  await tool.attached
  // The drops no BPF program runs for on this platform (test/lib/init-context-hits.ts):
  // IPv4 netfilter drops are only this flow's here.
  const blind = recordInitContextHits('skb/kfree_skb', 'protocol == 0x0800')
  t.teardown(() => blind.close())
  const before = nftCounter(pair, pair.receiver, 'bulk')
  await bulkTransfer(pair, pair.v4.receiver, 5201, '4M')
  await flowsGone(pair, 5201)
  const counted = nftCounter(pair, pair.receiver, 'bulk') - before
  const r = await stopTool(tool)
  const init = blind.stop((line) => /reason: NETFILTER_DROP\b/.test(line))
  const recs = ours(drops(r.stdout), 5201).filter((d) => d.reason === 'NETFILTER_DROP')
  t.ok(counted > 0, `nft dropped ${counted} data segments`)
  t.ok(init.total >= counted, `ftrace saw the ${counted} too (${init.total} IPv4 netfilter drops on the host)`)
  const seeable = counted - init.hits
  const lost = (jsonRecords(r.stdout).find((x) => x.type === 'summary')?.lost as number) ?? -1
  t.ok(recs.length <= seeable && recs.length + lost >= seeable, `records (${recs.length}) == nft counter (${counted}) − ${init.hits} in PID 1's context, or short by at most the ${lost} counted lost`)
  const order = stateOrderViolation(recs)
  t.equal(order, null, 'each flow ESTABLISHED until it closes, never back (state read at the drop, through early demux)')
  t.ok(recs.filter((d) => d.state === 'ESTABLISHED').length >= recs.length * 0.9, 'most drops in ESTABLISHED')
  t.ok(recs.every((d) => Array.isArray(d.tcpflags) && (d.tcpflags as string[]).includes('ACK')), 'flags read from the header')
  const owned = recs.filter((d) => (d.owner as { comm?: string } | null)?.comm === 'iperf3')
  // The kernel remembers who reads each socket, so even this flow, gone before
  // user space could look in /proc, keeps its owner.
  t.ok(owned.length >= recs.length * 0.9, `${owned.length} of ${recs.length} drops attributed to the iperf3 server`)
  t.equal(new Set(owned.map((d) => (d.owner as { pid: number }).pid)).size, 1, 'one server process')
})

t.test('no BPF program or link of the tool remains after exit, SIGTERM or SIGKILL', async (t) => {
  const exists = (kind: 'prog' | 'link', id: number) => {
    try {
      execFileSync('bpftool', [kind, 'show', 'id', String(id)], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  }
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
    const tool = startCli('tcpdrop', ['-B', 'bpf'])
    await tool.attached
    const held = bpfHeldBy(tool.child.pid as number)
    t.ok(held.prog.size > 0 && held.link.size > 0, `${signal}: the running tool holds ${held.prog.size} programs, ${held.link.size} links`)
    tool.child.kill(signal)
    await tool.exited
    await sleep(300)
    t.same([...held.prog].filter((id) => exists('prog', id)), [], `${signal}: its programs are gone`)
    t.same([...held.link].filter((id) => exists('link', id)), [], `${signal}: its links are gone`)
  }
})

t.test('the perf-buffer path of kernels before 5.8 (forced here): same records, nothing silent', async (t) => {
  const tool = startCli('tcpdrop', ['-j', '-B', 'bpf', '--no-stack', '--rate-limit', '0', '--port', '9005'], { ...process.env, NETDROP_BPF_BUFFER: 'perf' })
  await tool.attached
  const truth = await synStorm(500, 600)
  const r = await stopTool(tool)
  const lost = (jsonRecords(r.stdout).find((x) => x.type === 'summary')?.lost as number) ?? -1
  t.ok(truth.syns >= 500, `the sender sent ${truth.syns} SYNs`)
  t.equal(ours(drops(r.stdout), 9005).length + lost, truth.syns, `records + lost (${lost}) == SYNs sent`)
})
