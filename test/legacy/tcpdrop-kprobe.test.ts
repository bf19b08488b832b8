// tcpdrop through a kprobe on an out-of-line tcp_drop() (the 4.10–5.8 kernels
// bcc's tcpdrop was written for), run inside the 5.10-legacy guests (tcp_drop()
// noinline; no bpf() and no BTF, or both with -btf) by `npm run test:legacy`:
// on ftrace, and on bpf beside skb:kfree_skb where bpf() and BTF exist.
// Ground truth (SPEC §7): the receiving sockets' sk_drops (`ss -tm` d), which
// tcp_drop() bumps just before it frees; the flow is frozen by an nft rule
// before ss is read (on bpf, what that rule drops shows through kfree_skb and
// is compared with its counter: each drop once, through one of the two).
// Also: the seed's own example (connects to a closed port on 127.0.0.1), the
// other two tools on a kernel without BPF, and cleanup on every way out.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { dataPathDrops, frozenDrops, type Scenario } from '../lib/datapath-drops.js'
import { sleep } from '../lib/netns.js'
import { jsonRecords } from '../lib/records.js'
import { runCli, startCli, type LiveTool } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { testHosts } from '../lib/test-hosts.js'

const TRACEFS = '/sys/kernel/tracing'
const traceable = (fn: string) => existsSync(`${TRACEFS}/available_filter_functions`) && new RegExp(`^${fn}\\b`, 'm').test(readFileSync(`${TRACEFS}/available_filter_functions`, 'utf8'))
if (process.getuid?.() !== 0 || !existsSync(`${TRACEFS}/kprobe_events`) || !traceable('tcp_drop')) {
  t.plan(0, 'needs root and a guest kernel with kprobes and an out-of-line tcp_drop() (the 5.10-legacy guest: npm run test:legacy)')
  process.exit(0)
}
const NO_BPF = !existsSync('/proc/sys/kernel/unprivileged_bpf_disabled')
const AUTO = NO_BPF || !existsSync('/sys/kernel/btf/vmlinux') ? 'ftrace' : 'bpf'
const BACKENDS = AUTO === 'bpf' ? (['ftrace', 'bpf'] as const) : (['ftrace'] as const)
const BANNER = { ftrace: /Tracing TCP drops via ftrace \(kprobe tcp_drop\)/, bpf: /Tracing TCP drops via bpf \(tracepoint skb:kfree_skb \+ kprobe tcp_drop\)/ }
/** The callers of tcp_drop() a data-path drop comes from. */
const DATA_PATH = /^tcp_(data_queue|validate_incoming|rcv_established|prune_ofo_queue)\+0x[0-9a-f]+$/
const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()

const pair = testHosts('lt', 46, 'table inet ndl {\n chain input {\n type filter hook input priority 0;\n tcp dport 9101 counter drop comment "blackhole"\n }\n}')
const drops = (out: string) => jsonRecords(out).filter((r) => r.type === 'drop')

/** A tool that a failing test leaves running is killed when the test ends (else the file never exits). */
function started(t: { teardown(fn: () => void): void }, tool: string, args: string[]): LiveTool {
  const live = startCli(tool, args)
  t.teardown(() => {
    if (live.child.exitCode === null && live.child.signalCode === null) live.child.kill('SIGKILL')
  })
  return live
}

t.test(`${kernel}: --list-backends: auto picks ${AUTO}; without bpf() -B bpf says why bpf cannot serve`, async (t) => {
  for (const tool of ['tcpdrop', 'tcpretrans', 'dropwatch']) {
    const list = runCli(tool, ['--list-backends'], 60000)
    t.equal(list.code, 0, `${tool} --list-backends exits 0`)
    t.match(list.stdout, new RegExp(`^${AUTO}: usable \\(selected by --backend auto\\)`, 'm'), `${tool}: ${AUTO} selected`)
    if (NO_BPF) {
      t.match(list.stdout, /^bpf: not usable: this kernel has no bpf\(\) system call/m, `${tool}: bpf's reason`)
      const forced = runCli(tool, ['-B', 'bpf', '-d', '1'], 60000)
      t.equal(forced.code, 4, `${tool} -B bpf exits 4`)
      t.match(forced.stderr, /no backend can run .*bpf: this kernel has no bpf\(\) system call/)
    }
  }
  const list = runCli('tcpdrop', ['--list-backends'], 60000).stdout
  t.match(list, /tcp-drop: kprobe tcp_drop\n/, 'tcpdrop on ftrace: the tcp_drop kprobe')
  t.match(list, /cannot see: drops that do not go through tcp_drop\(\)/)
  if (AUTO === 'bpf') {
    t.match(list, /tcp-drop: tracepoint skb:kfree_skb \+ kprobe tcp_drop\n/, 'tcpdrop on bpf: the tracepoint and the tcp_drop kprobe')
    t.notMatch(list, /^bpf:[^]*TCP data-path drops[^]*^ftrace:/m, 'bpf: no data-path drops it cannot see')
  }
})

const scenarios: Array<[Scenario, 4 | 6, number]> = [
  ['zero-window', 4, 9111],
  ['zero-window', 6, 9112],
  ['rcvbuf-full', 4, 9113],
  ['rcvbuf-full', 6, 9114],
]
for (const backend of BACKENDS) {
  for (const [scenario, family, basePort] of scenarios) {
    const port = backend === 'bpf' ? basePort + 100 : basePort
    t.test(`${kernel} -B ${backend}: ${scenario} IPv${family}: records == the receiving socket's sk_drops`, async (t) => {
      const addr = family === 4 ? pair.v4.receiver : pair.v6.receiver
      const peer = family === 4 ? pair.v4.sender : pair.v6.sender
      const tool = started(t, 'tcpdrop', ['-j', '--no-stack', '--rate-limit', '0', '-B', backend, '--port', String(port)])
      await tool.attached
      t.match(tool.stderr(), BANNER[backend])
      const skDrops = await dataPathDrops(pair, scenario, addr, port)
      await sleep(500)
      const frozen = frozenDrops(pair, port)
      const r = await stopTool(tool)
      t.equal(r.code, 0)
      const flow = drops(r.stdout).filter((d) => d.daddr === addr && d.dport === port)
      const received = flow.filter((d) => DATA_PATH.test(String(d.location)))
      t.ok(skDrops > 0, `the scenario made drops (sk_drops ${skDrops})`)
      t.equal(received.length, skDrops, `${received.length} data-path records == sk_drops ${skDrops}`)
      if (backend === 'bpf') {
        // The freeze rule's drops reach skb:kfree_skb (netfilter), not tcp_drop().
        const netfilter = flow.filter((d) => !DATA_PATH.test(String(d.location)))
        t.equal(netfilter.length, frozen, `${netfilter.length} kfree_skb records == the freeze rule's ${frozen}`)
        t.ok(netfilter.every((d) => /^nf_hook_slow\+/.test(String(d.location))), 'and those at nf_hook_slow')
      } else {
        t.equal(flow.length, received.length, 'ftrace: no other records of the flow (tcp_drop() only)')
      }
      const summary = jsonRecords(r.stdout).find((x) => x.type === 'summary')
      t.equal(summary?.lost, 0, 'nothing lost')
      t.ok(
        received.every((d) => d.family === family && d.saddr === peer && d.state === 'ESTABLISHED' && (d.tcpflags as string[]).includes('ACK') && d.reason === null),
        'segment direction (the peer is SADDR), family, ESTABLISHED, ACK, no reason',
      )
    })
  }
}

/** bcc's tcpdrop example: five connects to a closed port on 127.0.0.1. */
async function refusedConnects(port: number): Promise<void> {
  const script = `const net = require('net'); let left = 5
    for (let i = 0; i < 5; i++) net.connect(${port}, '127.0.0.1').on('error', () => {}).on('close', () => { if (--left === 0) process.exit(0) })
    setTimeout(() => process.exit(0), 10000)`
  pair.exec(pair.sender, [process.execPath, '-e', script], { timeoutMs: 20000 })
  await sleep(1000)
}

t.test(`${kernel} -B ftrace: the seed example — connects to a closed port on 127.0.0.1 (CLOSE, RST|ACK, stacks)`, async (t) => {
  const tool = started(t, 'tcpdrop', ['-B', 'ftrace', '--port', '8198'])
  await tool.attached
  await refusedConnects(8198)
  const r = await stopTool(tool)
  const lines = r.stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d /.test(l))
  t.equal(lines.length, 5, 'one line per refused connect')
  // The socket is already closed (reset in SYN_SENT): sock_common has lost its
  // local port (skc_num 0), so DPORT prints 0 where bcc read the segment's header.
  t.ok(lines.every((l) => /\s4\s+127\.0\.0\.1:8198\s+> 127\.0\.0\.1:0\s+CLOSE\s+\(RST\|ACK\)\s+-$/.test(l)), lines.join('\n'))
  const stack = r.stdout.split('\n').filter((l) => l.startsWith('\t'))
  t.ok(stack.length >= 5 * 3, 'stacks under the lines')
  t.match(stack[0], /^\ttcp_drop\+0x/, 'first frame: tcp_drop (the tracer frames removed)')
  t.ok(stack.some((l) => /^\ttcp_rcv_state_process\+0x/.test(l)), 'then its caller')
  t.notOk(stack.some((l) => /kprobe|ftrace_/.test(l)), 'no tracer frames')
})

if (AUTO === 'bpf') {
  t.test(`${kernel} -B bpf: the seed example again — each drop once, through the tracepoint or tcp_drop()`, async (t) => {
    const tool = started(t, 'tcpdrop', ['-j', '-B', 'bpf', '--port', '8199'])
    await tool.attached
    await refusedConnects(8199)
    const recs = drops((await stopTool(tool)).stdout)
    // The SYN finds no socket (kfree_skb); the client frees the RST|ACK in tcp_drop().
    const syns = recs.filter((d) => d.state === null && d.dport === 8199)
    const resets = recs.filter((d) => d.state === 'CLOSE' && d.sport === 8199)
    t.equal(syns.length, 5, 'five SYNs to the closed port (skb:kfree_skb)')
    t.ok(syns.every((d) => (d.tcpflags as string[]).join('|') === 'SYN'), 'flags SYN')
    t.equal(resets.length, 5, 'five RST|ACKs freed by tcp_drop() in SYN_SENT')
    t.ok(resets.every((d) => (d.tcpflags as string[]).join('|') === 'RST|ACK' && /^tcp_rcv_state_process\+0x/.test(String(d.location))), 'RST|ACK, caller tcp_rcv_state_process')
    t.equal(new Set(resets.map((d) => d.dport)).size, 5, 'the header gives the client port (DPORT) that sock_common had lost')
    t.equal(recs.length, 10, 'nothing else, nothing twice')
    t.ok(resets.every((d) => Array.isArray(d.stack) && /^tcp_drop\+0x/.test(String((d.stack as string[])[0]))), 'stacks start at tcp_drop')
  })
}

// tcpretrans on this kernel (auto → ftrace, and --hook-type kprobe) is checked
// against ΔTcpRetransSegs − ΔTCPRetransFail in tcpretrans-kprobe.test.ts.

/** Our kprobe events and tracefs instances (their names carry the tool's PID). */
function leftovers(pid: number | undefined): string[] {
  if (pid === undefined) return []
  const probes = readFileSync(`${TRACEFS}/kprobe_events`, 'utf8').split('\n').filter((l) => l.includes(`_${pid}_`))
  const instances = readdirSync(`${TRACEFS}/instances`).filter((n) => n.includes(`_${pid}_`))
  return [...probes, ...instances]
}

t.test(`${kernel} -B ftrace: no kprobe or instance left after SIGINT, SIGTERM, and kill -9 + rerun`, async (t) => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const tool = started(t, 'tcpdrop', ['-B', 'ftrace', '--no-stack'])
    await tool.attached
    t.ok(leftovers(tool.child.pid).length >= 2, `${signal}: a kprobe and an instance while running`)
    const r = await stopTool(tool, signal)
    t.equal(r.code, 0, `${signal}: exit 0`)
    t.same(leftovers(tool.child.pid), [], `${signal}: nothing left`)
  }
  const killed = startCli('tcpdrop', ['-B', 'ftrace', '--no-stack'])
  await killed.attached
  killed.child.kill('SIGKILL')
  await killed.exited
  t.ok(leftovers(killed.child.pid).length >= 2, 'kill -9 leaves them behind')
  const rerun = started(t, 'tcpdrop', ['-B', 'ftrace', '--no-stack'])
  await rerun.attached
  t.match(rerun.stderr(), /removed tracefs instance .* of a run that no longer exists/)
  t.match(rerun.stderr(), /removed kprobe event .* of a run that no longer exists/)
  t.same(leftovers(killed.child.pid), [], "the rerun removed the dead run's objects")
  await stopTool(rerun)
  t.same(leftovers(rerun.child.pid), [])
})
