// tcpretrans on the legacy path (ftrace kprobes on sock_common), run inside
// a 5.10 / 6.1 guest by `npm run test:legacy` (test/legacy/run.sh). Expectations
// (kernel counters of both test namespaces are the ground truth, SPEC §7):
// - SYN retransmits (no data): kprobe records == ΔTcpRetransSegs exactly;
// - bulk flow with drops on the receiver's input: kprobe R records ≥
//   tracepoint records − ΔTCPLossProbes (the kprobe misses TLP retransmits);
// - -l: L records ≥ ΔTCPLossProbes (the kprobe counts probe attempts).
// NETDROP_LEGACY_HOOK_TYPES picks the modes (default "kprobe,auto").
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import t from 'tap'
import { createNetnsPair, nft, sleep, type NetnsPair } from '../lib/netns.js'
import { nodeBulkTransfer } from '../lib/node-traffic.js'
import { retransmitRecords } from '../lib/records.js'
import { startCli, type LiveTool } from '../lib/run-cli.js'
import { connectAttempts, listen } from '../lib/traffic.js'
import { counterDeltas } from '../lib/ground-truth.js'
import { RETRANSMIT_RULES } from '../lib/retransmit-rules.js'

const KPROBE_EVENTS = '/sys/kernel/tracing/kprobe_events'
const HAS_BTF = existsSync('/sys/kernel/btf/vmlinux')
if (process.getuid?.() !== 0 || !existsSync(KPROBE_EVENTS)) {
  t.plan(0, 'legacy tests need root and a kernel with kprobe_events (run them with npm run test:legacy)')
  process.exit(0)
}

const records = retransmitRecords

const counters = (pair: NetnsPair) => counterDeltas(pair)

async function stop(tool: LiveTool) {
  tool.child.kill('SIGINT')
  const r = await Promise.race([tool.exited, sleep(30000).then(() => null)])
  if (!r) {
    tool.child.kill('SIGKILL')
    throw new Error('tool did not stop within 30 s')
  }
  return r
}

function ourKprobes(pid: number | undefined): string[] {
  return readFileSync(KPROBE_EVENTS, 'utf8')
    .split('\n')
    .filter((l) => pid !== undefined && l.includes(`netdrop_tcpretrans_${pid}_`))
}

const tool = (args: string[]) => startCli('tcpretrans', ['-j', '-B', 'ftrace', '--rate-limit', '0', ...args])
const modes = (process.env.NETDROP_LEGACY_HOOK_TYPES ?? 'kprobe,auto').split(',')
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()

const pair = createNetnsPair('lg', 41)
t.teardown(() => pair.cleanup())
const senderNetns = statSync(`/run/netns/${pair.sender}`).ino
nft(pair, pair.receiver, RETRANSMIT_RULES)

t.comment(`kernel ${kernel}, modes ${modes.join(',')}`)

for (const mode of modes) {
  const kprobe = mode === 'kprobe'

  t.test(`${kernel} --hook-type ${mode}: SYN retransmits (no data): records == ΔTcpRetransSegs`, async (t) => {
    const run = tool(['--hook-type', mode, '--port', '9001'])
    await run.attached
    t.match(run.stderr(), kprobe ? /^Tracing .*kprobe tcp_retransmit_skb/m : /^Tracing .*tracepoint tcp:tcp_retransmit_skb/m, 'banner names the hook')
    const truth = counters(pair)
    connectAttempts(pair, pair.v4.receiver, 9001, 2)
    connectAttempts(pair, pair.v6.receiver, 9001, 1)
    await sleep(1000)
    const d = truth()
    const r = await stop(run)
    t.equal(r.code, 0, 'exit 0')
    const recs = records(r.stdout)
    const rt = recs.filter((x) => x.type === 'retransmit')
    const expected = d.get('TcpRetransSegs')! - d.get('TcpExtTCPRetransFail')!
    t.ok(expected >= 3, `kernel counted ${expected} SYN retransmits`)
    t.equal(rt.length, expected, `#records ${rt.length} == ΔTcpRetransSegs − ΔTCPRetransFail ${expected}`)
    const v4 = rt.filter((x) => x.family === 4)
    t.equal(v4.length, 2, 'two IPv4 SYN retransmits')
    t.ok(v4.every((x) => x.laddr === pair.v4.sender && x.raddr === pair.v4.receiver && x.rport === 9001 && x.state === 'SYN_SENT'), 'IPv4 tuple and state from sock_common')
    const v6 = rt.filter((x) => x.family === 6)
    t.equal(v6.length, 1, 'one IPv6 SYN retransmit')
    const summary = recs.find((x) => x.type === 'summary')
    if (kprobe) {
      if (HAS_BTF) t.ok(v4.every((x) => x.netns === senderNetns), 'netns inode from skc_net (BTF)')
      else t.ok(v4.every((x) => x.netns === null), 'no netns without BTF (skc_net cannot be located)')
    }
    // The kprobes read IPv6 addresses from skc_v6_* (the tracepoint has them in its record).
    t.ok(v6.every((x) => x.laddr === pair.v6.sender && x.raddr === pair.v6.receiver && x.rport === 9001), 'IPv6 addresses')
    t.equal(summary?.unresolved, 0, 'nothing unresolved')
    t.same(ourKprobes(run.child.pid), [], 'no kprobe left behind')
  })

  if (kprobe) {
    t.test(`${kernel} kprobe: IPv6 from sock_common whatever kptr_restrict says (no /proc/net/tcp6 join)`, async (t) => {
      const old = readFileSync('/proc/sys/kernel/kptr_restrict', 'utf8').trim()
      for (const value of ['0', '2']) {
        // The test (never the tool) sets it, to show the tool no longer depends on it.
        writeFileSync('/proc/sys/kernel/kptr_restrict', value)
        t.teardown(() => writeFileSync('/proc/sys/kernel/kptr_restrict', old))
        const run = tool(['--hook-type', 'kprobe', '--port', '9001', '-6'])
        await run.attached
        const truth = counters(pair)
        connectAttempts(pair, pair.v6.receiver, 9001, 2)
        await sleep(1000)
        const d = truth()
        const r = await stop(run)
        const recs = records(r.stdout)
        const rt = recs.filter((x) => x.type === 'retransmit')
        t.equal(rt.length, d.get('TcpRetransSegs'), `kptr_restrict=${value}: #records ${rt.length} == ΔTcpRetransSegs`)
        t.ok(rt.every((x) => x.family === 6 && x.laddr === pair.v6.sender && x.raddr === pair.v6.receiver), `kptr_restrict=${value}: IPv6 tuple`)
        t.equal(recs.find((x) => x.type === 'summary')?.unresolved, 0, `kptr_restrict=${value}: nothing unresolved`)
      }
    })

    t.test(`${kernel} kprobe: --netns filter in the kernel`, { skip: HAS_BTF ? false : 'no BTF: skc_net cannot be located, so the kprobes cannot filter --netns' }, async (t) => {
      const run = tool(['--hook-type', 'kprobe', '--port', '9001', '--netns', `/run/netns/${pair.receiver}`])
      await run.attached
      connectAttempts(pair, pair.v4.receiver, 9001, 1)
      await sleep(500)
      const r = await stop(run)
      t.same(records(r.stdout).filter((x) => x.type === 'retransmit'), [], "the sender's retransmits are not in the receiver's netns")
    })
  }

  t.test(`${kernel} --hook-type ${mode}: bulk flow with drops on the receiver's input, -l`, async (t) => {
    const run = tool(['--hook-type', mode, '--port', '5201', '-l'])
    // The tracepoint as the reference for what the kprobe misses.
    const ref = kprobe ? tool(['--hook-type', 'tracepoint', '--port', '5201']) : null
    await Promise.all([run.attached, ref?.attached])
    t.match(run.stderr(), /^Tracing .*kprobe tcp_send_loss_probe/m, '-l uses the loss-probe kprobe')
    const truth = counters(pair)
    const started = Date.now()
    await nodeBulkTransfer(pair, pair.v4.receiver, 5201, 4 << 20)
    await sleep(1500)
    const d = truth()
    const [r, rr] = await Promise.all([stop(run), ref ? stop(ref) : null])
    const recs = records(r.stdout)
    const rt = recs.filter((x) => x.type === 'retransmit')
    const tlp = recs.filter((x) => x.type === 'tlp')
    const segs = d.get('TcpRetransSegs')! - d.get('TcpExtTCPRetransFail')!
    const probes = d.get('TcpExtTCPLossProbes')!
    t.ok(segs > 0, `kernel: ΔTcpRetransSegs−ΔTCPRetransFail=${segs}, ΔTCPLossProbes=${probes} (transfer ${Date.now() - started} ms)`)
    if (kprobe && rr) {
      const tp = records(rr.stdout).filter((x) => x.type === 'retransmit').length
      t.equal(tp, segs, `tracepoint reference ${tp} == ΔTcpRetransSegs − ΔTCPRetransFail`)
      t.ok(rt.length >= tp - probes, `kprobe R ${rt.length} ≥ tracepoint ${tp} − ΔTCPLossProbes ${probes}`)
      t.comment(`kprobe/tracepoint ratio ${(rt.length / tp).toFixed(3)} (kprobe also counts failed attempts)`)
    } else {
      t.equal(rt.length, segs, `tracepoint R ${rt.length} == ΔTcpRetransSegs − ΔTCPRetransFail`)
    }
    t.ok(tlp.length >= probes, `L records ${tlp.length} ≥ ΔTCPLossProbes ${probes}`)
    t.ok(
      [...rt, ...tlp].every((x) => x.family === 4 && x.laddr === pair.v4.sender && x.raddr === pair.v4.receiver && x.rport === 5201),
      'tuples of the bulk flow',
    )
    t.equal(recs.find((x) => x.type === 'summary')?.lost, 0, 'nothing lost')
  })
}

t.test(`${kernel}: a SIGKILLed run's kprobes and instance are removed by the next run`, async (t) => {
  const a = tool(['--hook-type', 'kprobe'])
  await a.attached
  const pid = a.child.pid
  t.equal(ourKprobes(pid).length, 2, 'two kprobes while running (retransmit, SYN-ACK)')
  a.child.kill('SIGKILL')
  await a.exited
  t.equal(ourKprobes(pid).length, 2, 'SIGKILL leaves them')
  const b = tool(['--hook-type', 'kprobe'])
  await b.attached
  t.same(ourKprobes(pid), [], "the next run removed the dead run's kprobes")
  t.match(b.stderr(), /removed kprobe event netdrop_tcpretrans_\d+_\d+_rtx of a run that no longer exists/)
  const r = await stop(b)
  t.equal(r.code, 0)
  t.same(ourKprobes(b.child.pid), [], 'and its own on exit')
})

// Last: the clients of these handshakes keep retransmitting FINs into the dropped port.
for (const mode of modes) {
  const kprobe = mode === 'kprobe'
  t.test(`${kernel} --hook-type ${mode}: SYN-ACK retransmits of a dual-stack listener`, async (t) => {
    const stopListener = await listen(pair, 9002)
    t.teardown(stopListener)
    const run = tool(['--hook-type', mode, '--port', '9002'])
    await run.attached
    t.match(run.stderr(), kprobe ? /^Tracing .*kprobe tcp_rtx_synack/m : /^Tracing .*tracepoint tcp:tcp_retransmit_synack/m, 'banner names the hook')
    connectAttempts(pair, pair.v4.receiver, 9002, 1, 200)
    await sleep(4500) // SYN-ACK retransmits at +1 s and +3 s (tcp_synack_retries=2)
    const r = await stop(run)
    const synacks = records(r.stdout).filter((x) => x.type === 'retransmit' && x.state === 'SYN_RECV')
    t.ok(synacks.length >= 2, `${synacks.length} SYN-ACK retransmits`)
    // On a :: listener the request is AF_INET6 with the IPv4 tuple in sock_common.
    t.ok(synacks.every((x) => x.family === 4 && x.laddr === pair.v4.receiver && x.lport === 9002 && x.raddr === pair.v4.sender), 'IPv4 client of a dual-stack listener: wire family 4')
  })
}
