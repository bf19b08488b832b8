// npm run bench [-- --quick] [--only KEY,KEY]
//
// Measures tcpdrop, tcpretrans and dropwatch on each backend, side by side with
// the alternatives that run here (bpftrace scripts on the same tracepoints, bcc,
// perf-tools), in one run: start → attached, peak RSS, CPU% at fixed event rates,
// loss-free events/s (against nft counters / the sender's TCP counters), and the
// packets/s the kernel still handles with the tool attached. Prints a table,
// writes bench/results/<date>.{json,md,svg}. See bench/README.md.
import { spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { svgChart, type Panel } from './lib/chart.js'
import {
  CLK_TCK,
  cpuTicks,
  createPair,
  installSignalHandlers,
  loadRules,
  nftCounter,
  onCleanup,
  run,
  sh,
  sleep,
  stop,
  track,
  vmHWM,
  type Pair,
} from './lib/sys.js'

const HERE = path.dirname(fileURLToPath(import.meta.url)) // dist-bench/
const ROOT = path.resolve(HERE, '..')
const BENCH = path.join(ROOT, 'bench')
const QUICK = process.argv.includes('--quick')
/** `--start-only`: start → attached (and its breakdown) only, no load runs. */
const START_ONLY = process.argv.includes('--start-only')
/** `--only key,key`: just those subjects (keys as in SUBJECTS, e.g. td-bpf-json). */
const ONLY = process.argv.includes('--only') ? (process.argv[process.argv.indexOf('--only') + 1] ?? '').split(',') : null

const CFG = QUICK
  ? { startRuns: 3, window: 2, rates: [10000, 50000, 0], rtx: [{ permille: 10, streams: 1 }, { permille: 100, streams: 4 }], rtxWindow: 3 }
  : {
      startRuns: 10,
      window: 4,
      rates: [10000, 50000, 100000, 150000, 200000, 0],
      rtx: [
        { permille: 10, streams: 1 },
        { permille: 100, streams: 4 },
        { permille: 250, streams: 8 },
      ],
      rtxWindow: 5,
    }
const CPU_RATES = [10000, 50000] // the table's CPU% columns for drop storms
const PORTS = { udp: 47000, syn: 47001, rtx: 47002 }

type ToolName = 'dropwatch' | 'tcpdrop' | 'tcpretrans'
type CountMode = 'dropwatch-json' | 'bpftrace-map' | 'grep'

interface Subject {
  key: string
  tool: ToolName
  label: string
  impl: 'netdrop' | 'bpftrace' | 'bcc' | 'perf-tools'
  cmd: string[]
  ready: 'stderr' | 'stdout'
  readyRe: RegExp
  count: CountMode
  /** grep -F pattern that matches exactly one line per event of the storm */
  pattern?: string
  /** and, on the same line, this one (e.g. the drop reason) */
  pattern2?: string
  json?: boolean
  reference?: boolean
  /** filtered to the benchmark's receiver namespace in the kernel ({NETNS} in cmd) */
  filtered?: boolean
  /** traffic: drop storm (default by tool) or established-flow drops of the bulk flow */
  scenario?: 'estab'
}

interface LoadRun {
  traffic: string
  target: number
  seconds: number
  truth: number
  achieved: number
  seen: number
  lost: number
  suppressed: number
  ok: boolean
  /** events beyond the ground truth: other developers' drops seen by an unfiltered tool */
  background?: number
  cpuPct: number
  packetsPerS?: number
  /** Events the kernel skipped the tool's primary programs for (their recursion_misses, from bpftool) */
  recursionMisses?: number
  note?: string
}

interface Result {
  key: string
  tool: ToolName
  label: string
  impl: string
  command: string
  failsToStart?: string
  errorTail?: string
  start?: { runsMs: number[]; medianMs: number; minMs: number; maxMs: number; phases?: Record<string, number> }
  peakRssKiB?: number
  runs: LoadRun[]
  lossFree?: { eventsPerS: number; atMaxGenerated: boolean } | null
  overhead?: { withoutPerS: number; withPerS: number; kept: number; addedUsPerEvent: number | null; unit: string }
}

// ---------------------------------------------------------------- subjects
const node = process.execPath
const nd = (tool: ToolName, ...args: string[]) => [node, path.join(ROOT, 'bin', `${tool}.js`), ...args]
const bt = (file: string) => ['bpftrace', path.join(BENCH, 'bpftrace', file)]
const DW_ONELINER =
  'BEGIN { printf("Counting kfree_skb.\\n"); } tracepoint:skb:kfree_skb { @[ksym(args->location)] = count(); }'
const TD_ONELINER =
  'BEGIN { printf("Tracing kfree_skb.\\n"); } tracepoint:skb:kfree_skb { printf("%s %d\\n", ksym(args->location), args->reason); }'
const NDRE = /^(Tracing|Monitoring) /m

const SUBJECTS: Subject[] = [
  { key: 'dw-bpf', tool: 'dropwatch', label: 'dropwatch -B bpf', impl: 'netdrop', cmd: nd('dropwatch', '-B', 'bpf', '-i', '1', '-j', '--netns', '{NETNS}'), ready: 'stderr', readyRe: NDRE, count: 'dropwatch-json', reference: true, filtered: true },
  { key: 'dw-ftrace', tool: 'dropwatch', label: 'dropwatch -B ftrace', impl: 'netdrop', cmd: nd('dropwatch', '-B', 'ftrace', '-i', '1', '-j'), ready: 'stderr', readyRe: NDRE, count: 'dropwatch-json' },
  { key: 'dw-bt', tool: 'dropwatch', label: "bpftrace '@[ksym(location)]=count()'", impl: 'bpftrace', cmd: ['bpftrace', '-e', DW_ONELINER], ready: 'stdout', readyRe: /^Counting/m, count: 'bpftrace-map' },
  { key: 'td-bpf-json', tool: 'tcpdrop', label: 'tcpdrop -B bpf -j --no-stack --rate-limit 0', impl: 'netdrop', cmd: nd('tcpdrop', '-B', 'bpf', '-j', '--no-stack', '--rate-limit', '0'), ready: 'stderr', readyRe: NDRE, count: 'grep', pattern: `"dport":${PORTS.syn},`, json: true, reference: true },
  { key: 'td-bpf-text', tool: 'tcpdrop', label: 'tcpdrop -B bpf --no-stack --rate-limit 0', impl: 'netdrop', cmd: nd('tcpdrop', '-B', 'bpf', '--no-stack', '--rate-limit', '0'), ready: 'stderr', readyRe: NDRE, count: 'grep', pattern: `:${PORTS.syn} ` },
  { key: 'td-bpf-default', tool: 'tcpdrop', label: 'tcpdrop -B bpf (default: stacks, 10k lines/s)', impl: 'netdrop', cmd: nd('tcpdrop', '-B', 'bpf'), ready: 'stderr', readyRe: NDRE, count: 'grep', pattern: `:${PORTS.syn} ` },
  // ftrace tcpdrop only sees drops with a receiving socket (rx_sk joined with /proc/net/tcp):
  // socketless SYNs are invisible to it by design, so both backends are also measured on
  // established-flow drops (the bulk flow with a fraction of data segments dropped).
  { key: 'td-bpf-estab', tool: 'tcpdrop', label: 'tcpdrop -B bpf --no-stack --rate-limit 0 [estab. flow drops]', impl: 'netdrop', cmd: nd('tcpdrop', '-B', 'bpf', '--no-stack', '--rate-limit', '0'), ready: 'stderr', readyRe: NDRE, count: 'grep', pattern: `:${PORTS.rtx} `, pattern2: 'NETFILTER_DROP', scenario: 'estab' },
  { key: 'td-ftrace', tool: 'tcpdrop', label: 'tcpdrop -B ftrace --no-stack --rate-limit 0 [estab. flow drops]', impl: 'netdrop', cmd: nd('tcpdrop', '-B', 'ftrace', '--no-stack', '--rate-limit', '0'), ready: 'stderr', readyRe: NDRE, count: 'grep', pattern: `:${PORTS.rtx} `, pattern2: 'NETFILTER_DROP', scenario: 'estab' },
  { key: 'td-bt', tool: 'tcpdrop', label: 'bpftrace tcpdrop.bt (per event + kstack)', impl: 'bpftrace', cmd: bt('tcpdrop.bt'), ready: 'stdout', readyRe: /^Tracing/m, count: 'grep', pattern: `:${PORTS.syn} ` },
  { key: 'td-bt-oneliner', tool: 'tcpdrop', label: "bpftrace 'kfree_skb { printf(ksym,reason) }'", impl: 'bpftrace', cmd: ['bpftrace', '-e', TD_ONELINER], ready: 'stdout', readyRe: /^Tracing/m, count: 'grep', pattern: 'nft_do_chain ' },
  { key: 'td-bcc', tool: 'tcpdrop', label: 'bcc tcpdrop-bpfcc', impl: 'bcc', cmd: ['tcpdrop-bpfcc'], ready: 'stdout', readyRe: /^TIME/m, count: 'grep', pattern: `:${PORTS.syn} ` },
  { key: 'tr-bpf', tool: 'tcpretrans', label: 'tcpretrans -B bpf', impl: 'netdrop', cmd: nd('tcpretrans', '-B', 'bpf'), ready: 'stderr', readyRe: NDRE, count: 'grep', pattern: `:${PORTS.rtx} `, reference: true },
  { key: 'tr-ftrace', tool: 'tcpretrans', label: 'tcpretrans -B ftrace', impl: 'netdrop', cmd: nd('tcpretrans', '-B', 'ftrace'), ready: 'stderr', readyRe: NDRE, count: 'grep', pattern: `:${PORTS.rtx} ` },
  { key: 'tr-bt', tool: 'tcpretrans', label: 'bpftrace tcpretrans.bt (tracepoints)', impl: 'bpftrace', cmd: bt('tcpretrans.bt'), ready: 'stdout', readyRe: /^Tracing/m, count: 'grep', pattern: `:${PORTS.rtx} ` },
  { key: 'tr-bcc', tool: 'tcpretrans', label: 'bcc tcpretrans-bpfcc', impl: 'bcc', cmd: ['tcpretrans-bpfcc'], ready: 'stdout', readyRe: /^TIME/m, count: 'grep', pattern: `:${PORTS.rtx} ` },
  { key: 'tr-perf', tool: 'tcpretrans', label: 'perf-tools tcpretrans-perf', impl: 'perf-tools', cmd: ['tcpretrans-perf'], ready: 'stdout', readyRe: /^TIME/m, count: 'grep', pattern: `:${PORTS.rtx} ` },
]

// ---------------------------------------------------------------- helpers
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y)
  const m = s.length >> 1
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2
}
const firstLine = (s: string) => s.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? ''
const lastLine = (s: string) => s.split('\n').map((l) => l.trim()).filter((l) => l.length > 0).pop() ?? ''
const which = (bin: string) => sh(['sh', '-c', `command -v ${bin}`], { allowFail: true }).trim()
const log = (s: string) => process.stderr.write(`${s}\n`)

const TMP = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'netdrop-bench-'))
onCleanup(() => fs.rmSync(TMP, { recursive: true, force: true }))

interface Live {
  child: ChildProcess
  pid: number
  readyMs: number | null
  error?: string
  errorTail?: string
  stderr: () => string
}

/** Starts a tool; resolves once its ready line appeared (or it died / 30 s passed). */
function startTool(s: Subject, stdoutFile: string | null): Promise<Live> {
  const out = stdoutFile ? fs.openSync(stdoutFile, 'w') : 'pipe'
  const t0 = process.hrtime.bigint()
  // NETDROP_STARTUP: our tools print where their start-up time went (lib/cli/startup-marks.ts).
  const env = s.impl === 'netdrop' ? { ...process.env, NETDROP_STARTUP: '1' } : process.env
  const child = track(spawn(s.cmd[0] ?? 'false', s.cmd.slice(1), { cwd: ROOT, stdio: ['ignore', out, 'pipe'], env }))
  if (typeof out === 'number') fs.closeSync(out)
  let err = ''
  let stdoutHead = ''
  child.stderr?.on('data', (d: Buffer) => {
    if (err.length < 1 << 20) err += d.toString()
  })
  child.stdout?.on('data', (d: Buffer) => {
    if (stdoutHead.length < 1 << 16) stdoutHead += d.toString()
  })
  const live: Live = { child, pid: child.pid ?? -1, readyMs: null, stderr: () => err }
  return new Promise((resolve) => {
    let done = false
    const finish = (ready: boolean, error?: string) => {
      if (done) return
      done = true
      clearInterval(timer)
      clearTimeout(limit)
      if (ready) live.readyMs = Number(process.hrtime.bigint() - t0) / 1e6
      else {
        const text = err.trim() ? err : stdoutHead
        live.error = error ?? (firstLine(text) || `exited with ${child.exitCode ?? child.signalCode}`)
        live.errorTail = lastLine(text)
      }
      resolve(live)
    }
    const check = () => {
      if (s.ready === 'stderr' && s.readyRe.test(err)) return finish(true)
      if (s.ready === 'stdout') {
        if (stdoutFile) {
          try {
            const fd = fs.openSync(stdoutFile, 'r')
            const buf = Buffer.alloc(4096)
            const n = fs.readSync(fd, buf, 0, 4096, 0)
            fs.closeSync(fd)
            if (s.readyRe.test(buf.subarray(0, n).toString())) return finish(true)
          } catch {
            /* not yet */
          }
        } else if (s.readyRe.test(stdoutHead)) return finish(true)
      }
      if (child.exitCode !== null || child.signalCode !== null) finish(false)
    }
    child.stderr?.on('data', check)
    child.stdout?.on('data', check)
    child.on('exit', () => setTimeout(check, 50))
    const timer = setInterval(check, 5)
    const limit = setTimeout(() => finish(false, 'not attached after 30 s'), 30000)
  })
}

// ---------------------------------------------------------------- traffic
let GEN: string[] = []
function buildGenerator(): void {
  const bin = path.join(ROOT, 'dist-bench', 'gen')
  const cc = which('cc') || which('gcc') || which('clang')
  if (cc) {
    try {
      sh([cc, '-O2', '-o', bin, path.join(BENCH, 'lib', 'gen.c')])
      GEN = [bin]
      return
    } catch (e) {
      log(`bench: compiling gen.c failed (${(e as Error).message.split('\n')[0]}); using gen.py`)
    }
  }
  GEN = [which('python3') || 'python3', path.join(BENCH, 'lib', 'gen.py')]
}

async function storm(pair: Pair, kind: 'udp' | 'syn', rate: number, seconds: number): Promise<{ sent: number; seconds: number }> {
  const port = kind === 'udp' ? PORTS.udp : PORTS.syn
  const r = await run(['ip', 'netns', 'exec', pair.sender, ...GEN, kind, pair.dst, String(port), String(rate), String(seconds), pair.src], (seconds + 20) * 1000)
  try {
    return JSON.parse(lastLine(r.stdout)) as { sent: number; seconds: number }
  } catch {
    throw new Error(`generator failed: ${firstLine(r.stderr) || r.code}`)
  }
}

async function bulkFlow(pair: Pair, streams: number, seconds: number): Promise<void> {
  const server = track(spawn('ip', ['netns', 'exec', pair.receiver, 'iperf3', '-s', '-1', '-p', String(PORTS.rtx)], { stdio: 'ignore' }))
  try {
    for (let i = 0; i < 50; i++) {
      if (pair.exec(pair.receiver, ['ss', '-Hltn', `sport = :${PORTS.rtx}`]).trim()) break
      await sleep(100)
    }
    await run(['ip', 'netns', 'exec', pair.sender, 'iperf3', '-c', pair.dst, '-p', String(PORTS.rtx), '-t', String(seconds), '-P', String(streams)], (seconds + 30) * 1000)
  } finally {
    await stop(server, 2000)
  }
}

interface Traffic {
  name: string
  target: number
  kind: 'udp' | 'syn' | 'rtx'
  rate?: number
  permille?: number
  streams?: number
  /** with kind rtx: ground truth is the nft counter of dropped segments, not retransmits */
  estab?: boolean
  seconds: number
}

interface TrafficResult {
  truth: number
  seconds: number
  packetsPerS: number
  /** ground truth again, once the tool has drained (late retransmits of the flow) */
  final: () => Promise<number>
}

/** Waits (bounded, 10 s) until the sender has no TCP socket to the bulk port left
 *  (TIME-WAIT aside), so late retransmits cannot change the counters any more. */
async function flowsGone(pair: Pair): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const left = pair.exec(pair.sender, ['ss', '-Htan', `dport = :${PORTS.rtx}`], { allowFail: true })
    if (!left.split('\n').some((l) => l.trim() && !l.startsWith('TIME-WAIT'))) return
    await sleep(100)
  }
}

/** Runs the traffic; returns ground truth (events the kernel made) and packets/s handled. */
async function traffic(pair: Pair, t: Traffic, during?: () => void): Promise<TrafficResult> {
  if (t.kind === 'rtx') {
    loadRules(pair, PORTS, t.permille ?? 0)
    const c0 = pair.counters(pair.sender)
    const n0 = nftCounter(pair, 'rtx')
    const t0 = Date.now()
    await bulkFlow(pair, t.streams ?? 1, t.seconds)
    during?.()
    const secs = (Date.now() - t0) / 1000
    await flowsGone(pair)
    const read = () => {
      const c1 = pair.counters(pair.sender)
      const d = (k: string) => (c1.get(k) ?? 0) - (c0.get(k) ?? 0)
      return { rtx: d('TcpRetransSegs') - d('TcpExtTCPRetransFail'), out: d('TcpOutSegs'), dropped: nftCounter(pair, 'rtx') - n0 }
    }
    const first = read()
    const pick = (x: ReturnType<typeof read>) => (t.estab ? x.dropped : x.rtx)
    return { truth: pick(first), seconds: secs, packetsPerS: first.out / secs, final: async () => pick(read()) }
  }
  const name = t.kind
  const n0 = nftCounter(pair, name)
  const r = await storm(pair, t.kind, t.rate ?? 0, t.seconds)
  during?.()
  const truth = nftCounter(pair, name) - n0
  return { truth, seconds: r.seconds, packetsPerS: truth / r.seconds, final: async () => nftCounter(pair, name) - n0 }
}

// ---------------------------------------------------------------- counting
function grepCount(file: string, pattern: string, pattern2?: string): number {
  // The flow's other TCP drops (e.g. out-of-order segments the receiver discards) are
  // real drops but not in the nft counter: pattern2 keeps the NETFILTER_DROP ones.
  const cmd = pattern2
    ? ['sh', '-c', 'grep -F -- "$1" "$3" | grep -c -F -- "$2"', 'sh', pattern, pattern2, file]
    : ['grep', '-c', '-F', '--', pattern, file]
  const out = sh(cmd, { allowFail: true, timeoutMs: 120000 }).trim()
  return Number(out) || 0
}

function tail(file: string, bytes: number): string {
  const fd = fs.openSync(file, 'r')
  const size = fs.fstatSync(fd).size
  const n = Math.min(bytes, size)
  const buf = Buffer.alloc(n)
  fs.readSync(fd, buf, 0, n, size - n)
  fs.closeSync(fd)
  return buf.toString()
}

function countEvents(s: Subject, file: string, stderr: string): { seen: number; lost: number; suppressed: number } {
  let lost = 0
  let suppressed = 0
  if (s.count === 'dropwatch-json') {
    const recs = fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; lost: number; drops: Array<{ location: string; reason: string | null; count: number }> })
    const summary = recs.find((r) => r.type === 'summary')
    const use = summary ? [summary] : recs.filter((r) => r.type === 'interval')
    let seen = 0
    for (const r of use) {
      lost += r.lost
      for (const d of r.drops) if (d.reason === 'NETFILTER_DROP' && d.location.startsWith('nft_do_chain')) seen += d.count
    }
    return { seen, lost, suppressed }
  }
  if (s.count === 'bpftrace-map') {
    let seen = 0
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/^@\[(.*)\]: (\d+)$/gm)) if (m[1]?.startsWith('nft_do_chain')) seen += Number(m[2])
    return { seen, lost, suppressed }
  }
  const seen = grepCount(file, s.pattern ?? '', s.pattern2)
  const end = tail(file, 1 << 16)
  if (s.json) {
    const summary = end
      .split('\n')
      .filter((l) => l.includes('"type":"summary"'))
      .map((l) => JSON.parse(l) as { lost?: number; suppressed?: number })
      .pop()
    lost = summary?.lost ?? 0
    suppressed = summary?.suppressed ?? 0
  }
  const text = `${stderr}\n${s.json ? '' : end}`
  for (const m of text.matchAll(/\b(\d+) (?:events )?lost\b/g)) lost = Math.max(lost, Number(m[1]))
  for (const m of text.matchAll(/\((\d+) in total\)/g)) lost = Math.max(lost, Number(m[1]))
  if (!s.json) for (const m of text.matchAll(/\d+ lost, (\d+) (?:lines )?suppressed by --rate-limit/g)) suppressed = Number(m[1])
  if (s.impl === 'bpftrace') {
    lost = 0
    const bl = sh(['grep', '-h', '-o', '-E', 'Lost [0-9]+ events', file], { allowFail: true, timeoutMs: 120000 }) + stderr
    for (const m of bl.matchAll(/Lost (\d+) events/g)) lost += Number(m[1])
  }
  return { seen, lost, suppressed }
}

/** Waits (bounded) until a per-event tool stopped writing. */
async function drained(file: string, maxMs = 15000): Promise<void> {
  let last = -1
  let stable = 0
  for (let waited = 0; waited < maxMs && stable < 2; waited += 250) {
    await sleep(250)
    const size = fs.statSync(file).size
    stable = size === last ? stable + 1 : 0
    last = size
  }
}

// ---------------------------------------------------------------- measurements
async function measureStart(s: Subject, r: Result, runs: number): Promise<void> {
  const times: number[] = []
  const phases: Array<Record<string, number>> = []
  for (let i = 0; i < runs; i++) {
    const live = await startTool(s, null)
    await stop(live.child)
    if (live.readyMs === null) {
      r.failsToStart = live.error ?? 'unknown error'
      r.errorTail = live.errorTail
      return
    }
    times.push(live.readyMs)
    phases.push(startupPhases(live.stderr()))
    await sleep(100)
  }
  r.start = { runsMs: times.map((t) => Math.round(t)), medianMs: Math.round(median(times)), minMs: Math.round(Math.min(...times)), maxMs: Math.round(Math.max(...times)) }
  const names = Object.keys(phases[0] ?? {})
  if (names.length) r.start.phases = Object.fromEntries(names.map((n) => [n, Math.round(median(phases.map((p) => p[n] ?? NaN)))]))
}

/** `tcpdrop: startup: modules 89, tool 92, … (ms since the process started)` → { modules: 89, … }. */
function startupPhases(stderr: string): Record<string, number> {
  const line = /startup: (.*) \(ms since the process started\)/.exec(stderr)?.[1] ?? ''
  return Object.fromEntries(line.split(', ').filter(Boolean).map((x) => [x.slice(0, x.lastIndexOf(' ')), Number(x.slice(x.lastIndexOf(' ') + 1))]))
}

/** Median wall time of `node -e 0`: what Node itself takes to start, in the same run. */
async function nodeBaseline(runs: number): Promise<number> {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint()
    await new Promise((resolve) => spawn(node, ['-e', '0'], { stdio: 'ignore' }).on('exit', resolve))
    times.push(Number(process.hrtime.bigint() - t0) / 1e6)
    await sleep(100)
  }
  return Math.round(median(times))
}

/** The kernel's recursion_misses of a process's BPF programs, standbys aside
 *  (theirs lose nothing: bpf/include/nest.bpf.h). */
function recursionMisses(pid: number): number {
  let misses = 0
  let fds: string[] = []
  try {
    fds = fs.readdirSync(`/proc/${pid}/fdinfo`)
  } catch {
    return 0
  }
  for (const fd of fds) {
    let info = ''
    try {
      info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8')
    } catch {
      continue
    }
    const id = /^prog_id:\s*(\d+)/m.exec(info)?.[1]
    if (!id || /^link_id:/m.test(info)) continue // a link names its program too
    const p = JSON.parse(sh(['bpftool', 'prog', 'show', 'id', id, '-j'], { allowFail: true }) || '{}') as { name?: string; recursion_misses?: number }
    if (!p.name?.endsWith('_standby')) misses += p.recursion_misses ?? 0
  }
  return misses
}

async function loadRun(pair: Pair, s: Subject, r: Result, t: Traffic): Promise<LoadRun | null> {
  const file = path.join(TMP, `${s.key}.out`)
  const live = await startTool(s, file)
  if (live.readyMs === null) {
    await stop(live.child)
    fs.rmSync(file, { force: true })
    r.failsToStart ??= live.error
    return null
  }
  await sleep(200)
  let c0 = cpuTicks(live.pid) ?? 0
  let c1 = c0
  const w0 = Date.now()
  let w1 = w0
  const tr = await traffic(pair, t, () => {
    c1 = cpuTicks(live.pid) ?? c1
    w1 = Date.now()
  })
  if (s.count === 'grep') await drained(file)
  tr.truth = await tr.final()
  const hwm = vmHWM(live.pid)
  if (hwm) r.peakRssKiB = Math.max(r.peakRssKiB ?? 0, hwm)
  const misses = s.impl === 'netdrop' ? recursionMisses(live.pid) : undefined
  const cleanStop = await stop(live.child)
  const { seen, lost, suppressed } = countEvents(s, file, live.stderr())
  fs.rmSync(file, { force: true })
  // Other developers' tests run concurrently on this host: an unfiltered tool may
  // see a few extra NETFILTER drops, never fewer than the kernel counted.
  const extra = seen + suppressed - tr.truth
  const tolerance = Math.max(20, tr.truth * 0.002)
  const ok = cleanStop && lost === 0 && extra >= 0 && (extra <= tolerance || !s.filtered)
  c0 = c0 || 0
  const lr: LoadRun = {
    traffic: t.name,
    target: t.target,
    seconds: Number(tr.seconds.toFixed(2)),
    truth: tr.truth,
    achieved: Math.round(tr.truth / tr.seconds),
    seen,
    lost,
    suppressed,
    ok,
    cpuPct: Number(((100 * (c1 - c0)) / CLK_TCK / ((w1 - w0) / 1000)).toFixed(1)),
    packetsPerS: Math.round(tr.packetsPerS),
  }
  if (extra > tolerance && !s.filtered) lr.background = extra
  if (misses !== undefined) lr.recursionMisses = misses
  if (!cleanStop) lr.note = 'did not stop on SIGINT within 15 s'
  r.runs.push(lr)
  log(
    `  ${s.key.padEnd(16)} ${t.name.padEnd(18)} truth ${String(tr.truth).padStart(8)} seen ${String(seen).padStart(8)}` +
      `${suppressed ? ` +${suppressed} suppressed` : ''}${lr.background ? ` (${lr.background} background)` : ''} lost ${lost} → ${ok ? 'exact' : 'NOT exact'}  ${lr.achieved}/s  CPU ${lr.cpuPct}%${misses ? `  (kernel skipped a primary program ${misses}×)` : ''}`,
  )
  return lr
}

async function dropStorms(pair: Pair, s: Subject, r: Result): Promise<void> {
  const kind = s.tool === 'dropwatch' ? 'udp' : 'syn'
  let failed = false
  for (const rate of CFG.rates) {
    if (rate > 0 && failed && !CPU_RATES.includes(rate)) continue // past the loss-free limit
    const t: Traffic = { name: rate ? `${kind} ${rate / 1000}k/s` : `${kind} flat out`, target: rate, kind, rate, seconds: CFG.window }
    let base: number[] = []
    if (rate === 0) base.push((await traffic(pair, t)).packetsPerS) // same sender without the tool, just before…
    const lr = await loadRun(pair, s, r, t)
    if (!lr) return
    if (!lr.ok) failed = true
    if (rate === 0) base.push((await traffic(pair, t)).packetsPerS) // …and just after (background noise)
    if (base.length && lr.packetsPerS) {
      const withPerS = lr.packetsPerS
      const withoutPerS = Math.round(base.reduce((a, b) => a + b, 0) / base.length)
      r.overhead = {
        withoutPerS,
        withPerS,
        kept: Number((withPerS / withoutPerS).toFixed(3)),
        addedUsPerEvent: Number((1e6 / withPerS - 1e6 / withoutPerS).toFixed(2)),
        unit: `${kind === 'udp' ? 'UDP' : 'SYN'} drops/s`,
      }
    }
  }
}

async function retransmits(pair: Pair, s: Subject, r: Result): Promise<void> {
  for (const [i, c] of CFG.rtx.entries()) {
    const estab = s.scenario === 'estab'
    const t: Traffic = { name: `${estab ? 'estab drops' : 'rtx'} ${c.permille / 10}% x${c.streams}`, target: 0, kind: 'rtx', permille: c.permille, streams: c.streams, seconds: CFG.rtxWindow, estab }
    const base: number[] = []
    const last = i === CFG.rtx.length - 1
    if (last) base.push((await traffic(pair, t)).packetsPerS)
    const lr = await loadRun(pair, s, r, t)
    if (!lr) return
    if (last) base.push((await traffic(pair, t)).packetsPerS)
    if (base.length && lr.packetsPerS) {
      const without = base.reduce((a, b) => a + b, 0) / base.length
      r.overhead = {
        withoutPerS: Math.round(without),
        withPerS: lr.packetsPerS,
        kept: Number((lr.packetsPerS / without).toFixed(3)),
        addedUsPerEvent: null,
        unit: 'TCP segments sent/s',
      }
    }
  }
}

function lossFree(r: Result): void {
  const runs = r.runs.filter((x) => x.truth > 0)
  if (!runs.length) return
  const okRuns = runs.filter((x) => x.ok)
  if (!okRuns.length) {
    r.lossFree = null
    return
  }
  // A tool that slows the sender enough can be exact "flat out" at a rate below one
  // where it already lost events: only exact rates below the lowest lossy one count.
  const lossyFrom = Math.min(...runs.filter((x) => !x.ok).map((x) => x.achieved))
  const below = okRuns.filter((x) => x.achieved < lossyFrom)
  if (!below.length) {
    r.lossFree = null
    return
  }
  const best = Math.max(...below.map((x) => x.achieved))
  const maxGen = Math.max(...runs.map((x) => x.achieved))
  r.lossFree = { eventsPerS: best, atMaxGenerated: runs.every((x) => x.ok) && best >= maxGen * 0.98 }
}

// ---------------------------------------------------------------- report
const fmtRate = (n: number) => (n >= 10000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(Math.round(n)))
const ratio = (v: number | undefined | null, ref: number | undefined | null) => (v && ref ? ` (${(v / ref).toFixed(v / ref >= 10 ? 0 : 1)}×)` : '')

function cpuCell(r: Result, which: number): string {
  if (r.failsToStart) return ''
  if (r.tool === 'tcpretrans' || r.runs[0]?.traffic.startsWith('estab')) {
    const run = r.runs[which === 0 ? 0 : r.runs.length - 1]
    return run ? `${run.cpuPct}% @ ${fmtRate(run.achieved)}/s` : '–'
  }
  const run = r.runs.find((x) => x.target === CPU_RATES[which])
  return run ? `${run.cpuPct}%${run.ok ? '' : ' (lossy)'}` : '–'
}

function table(results: Result[]): string {
  const lines: string[] = []
  for (const tool of ['dropwatch', 'tcpdrop', 'tcpretrans'] as ToolName[]) {
    const rows = results.filter((r) => r.tool === tool)
    const ref = rows.find((r) => SUBJECTS.find((s) => s.key === r.key)?.reference)
    const cpuHead = tool === 'tcpretrans' ? ['CPU% (low rtx rate)', 'CPU% (high rtx rate)'] : CPU_RATES.map((x) => `CPU% @ ${fmtRate(x)}/s`)
    const unit = rows.find((r) => r.overhead)?.overhead?.unit ?? ''
    lines.push(`### ${tool}  (ratios: × the ${ref?.label ?? 'reference'} row)`, '')
    lines.push(`| subject | start → attached ms, median [min–max] | peak RSS MB | ${cpuHead.join(' | ')} | loss-free events/s | traffic kept with tool (${unit}) |`)
    lines.push('|---|---|---|---|---|---|---|')
    for (const r of rows) {
      if (r.failsToStart) {
        lines.push(`| ${r.label} | fails to start: ${r.failsToStart.replace(/\|/g, '\\|')} | | | | | |`)
        continue
      }
      const st = r.start ? `${r.start.medianMs} [${r.start.minMs}–${r.start.maxMs}]${ratio(r.start.medianMs, ref?.start?.medianMs)}` : '–'
      const rss = r.peakRssKiB ? `${(r.peakRssKiB / 1024).toFixed(0)}${ratio(r.peakRssKiB, ref?.peakRssKiB)}` : '–'
      const lf =
        r.lossFree === undefined ? '–' : r.lossFree === null ? `none (lossy from ${fmtRate(Math.min(...r.runs.map((x) => x.achieved)))}/s)` : `${r.lossFree.atMaxGenerated ? '≥ ' : ''}${fmtRate(r.lossFree.eventsPerS)}${ratio(r.lossFree.eventsPerS, ref?.lossFree?.eventsPerS)}`
      const o = r.overhead
      const ov = o ? `${(o.kept * 100).toFixed(0)}% (${fmtRate(o.withPerS)} vs ${fmtRate(o.withoutPerS)}${o.unit !== unit ? ` ${o.unit}` : ''}${o.addedUsPerEvent !== null ? `; ${o.addedUsPerEvent >= 0 ? '+' : ''}${o.addedUsPerEvent} µs/drop` : ''})` : '–'
      lines.push(`| ${r.label} | ${st} | ${rss} | ${cpuCell(r, 0)} | ${cpuCell(r, 1)} | ${lf} | ${ov} |`)
    }
    lines.push('')
  }
  return lines.join('\n')
}

function chart(results: Result[], env: Record<string, unknown>): string {
  const color = (r: Result) => ({ netdrop: '#2b6cb0', bpftrace: '#dd6b20', bcc: '#718096', 'perf-tools': '#718096' })[r.impl] ?? '#999'
  const label = (r: Result) => `${r.tool}: ${r.label}`.slice(0, 52)
  const bar = (r: Result, v: number | null | undefined, text: string) => ({ label: label(r), value: r.failsToStart ? null : (v ?? null), text: r.failsToStart ? 'fails to start' : text, color: color(r) })
  const panels: Panel[] = [
    { title: 'start → attached, median ms (lower is better)', bars: results.map((r) => bar(r, r.start?.medianMs, r.start ? `${r.start.medianMs} ms` : '–')) },
    { title: 'peak RSS, MB (lower is better)', bars: results.map((r) => bar(r, r.peakRssKiB ? r.peakRssKiB / 1024 : null, r.peakRssKiB ? `${(r.peakRssKiB / 1024).toFixed(0)} MB` : '–')) },
    {
      title: 'tool CPU% at 10k events/s (tcpretrans: lowest retransmit rate) (lower is better)',
      bars: results.map((r) => {
        const run = r.tool === 'tcpretrans' || r.runs[0]?.traffic.startsWith('estab') ? r.runs[0] : r.runs.find((x) => x.target === CPU_RATES[0])
        return bar(r, run?.cpuPct, run ? `${run.cpuPct}% @ ${fmtRate(run.achieved)}/s` : '–')
      }),
    },
    { title: 'loss-free events/s (higher is better; ≥ = every generated rate was exact)', bars: results.map((r) => bar(r, r.lossFree?.eventsPerS, r.lossFree ? `${r.lossFree.atMaxGenerated ? '≥ ' : ''}${fmtRate(r.lossFree.eventsPerS)}/s` : r.lossFree === null ? 'lossy at every rate' : '–')) },
    { title: 'traffic the kernel still handles with the tool attached, % of without (higher is better)', bars: results.map((r) => bar(r, r.overhead ? r.overhead.kept * 100 : null, r.overhead ? `${(r.overhead.kept * 100).toFixed(0)}%` : '–')) },
  ]
  return svgChart('netdrop-tools benchmark', `${env.date} · ${env.kernel} · ${env.cpus} CPUs · ${env.mode} · blue: netdrop-tools, orange: bpftrace, grey: bcc/perf-tools`, panels)
}

// ---------------------------------------------------------------- main
/** Where start-up time goes, per netdrop subject: median ms since the process started at each milestone. */
function startupTable(results: Result[], nodeMs: number | undefined): string {
  const rows = results.filter((r) => r.start?.phases)
  if (!rows.length) return ''
  const names = Object.keys(rows[0]?.start?.phases ?? {})
  const lines = [
    `### Start-up breakdown (median ms since the process started; \`node -e 0\` ${nodeMs ?? '?'} ms in this run)`,
    '',
    `| subject | ${names.join(' | ')} | start → attached (wall) | × node -e 0 |`,
    `|---|${names.map(() => '---|').join('')}---|---|`,
  ]
  for (const r of rows) {
    const ph = r.start?.phases ?? {}
    const x = nodeMs && r.start ? `${(r.start.medianMs / nodeMs).toFixed(1)}×` : '–'
    lines.push(`| ${r.label} | ${names.map((n) => ph[n] ?? '–').join(' | ')} | ${r.start?.medianMs} | ${x} |`)
  }
  lines.push('', 'modules: Node started and the CLI bundle loaded (yargs only for --help and errors); tool: the tool\'s own modules; args: options parsed; probed: backend chosen (BTF read); started: programs loaded (libbpf: BTF again, CO-RE, verifier) and attached; attached: banner written.', '')
  return lines.join('\n')
}

/** Events the kernel skipped each tool's primary programs for, by load (standbys recover tcpretrans's). */
function missesTable(results: Result[]): string {
  const rows = results.filter((r) => r.runs.some((x) => x.recursionMisses !== undefined))
  if (!rows.length) return ''
  const lines = ['### Recursion misses (kernel-counted, primary programs; lost only if also in the lost column)', '', '| subject | load | events | recursion misses | lost |', '|---|---|---|---|---|']
  for (const r of rows) for (const x of r.runs) lines.push(`| ${r.label} | ${x.traffic} | ${x.truth} | ${x.recursionMisses ?? '–'} | ${x.lost} |`)
  lines.push('')
  return lines.join('\n')
}

function writeResults(env: Record<string, unknown> & { date: string; mode: string; kernel: string; node: string; bpftrace: string; loadavgStart: number[]; loadavgEnd: number[]; durationS: number }, results: Result[]): void {
  const day = `${env.date.slice(0, 10)}${QUICK ? '-quick' : ''}${START_ONLY ? '-start' : ''}${ONLY ? `-${ONLY.join('+')}` : ''}`
  const dir = path.join(BENCH, 'results')
  fs.mkdirSync(dir, { recursive: true })
  const md = table(results) + '\n' + startupTable(results, env.nodeStartMs as number | undefined) + missesTable(results)
  const write = (name: string, text: string) => {
    const tmp = path.join(dir, `${name}.tmp`)
    fs.writeFileSync(tmp, text)
    fs.renameSync(tmp, path.join(dir, name))
  }
  write(`${day}.json`, JSON.stringify({ env, results }, null, 2) + '\n')
  write(`${day}.md`, `# Benchmark ${env.date} (${env.mode})\n\n${env.kernel}, ${env.cpus} CPUs, node ${env.node}, ${env.bpftrace}, load average ${env.loadavgStart.join(' ')} → ${env.loadavgEnd.join(' ')}, ${env.durationS} s\n\n${md}`)
  write(`${day}.svg`, chart(results, env))
  process.stdout.write(`\n${md}\n`)
  log(`bench: wrote bench/results/${day}.{json,md,svg}`)
}

async function main(): Promise<void> {
  // --report FILE: re-render the table and chart of a saved run (no measurement).
  const rep = process.argv.indexOf('--report')
  if (rep > 0) {
    const saved = JSON.parse(fs.readFileSync(process.argv[rep + 1] ?? '', 'utf8')) as { env: Parameters<typeof writeResults>[0]; results: Result[] }
    for (const r of saved.results) if (r.runs.length) lossFree(r)
    writeResults(saved.env, saved.results)
    return
  }
  installSignalHandlers()
  const began = Date.now()
  if (process.getuid?.() !== 0) throw new Error('run as root (network namespaces, nft, BPF)')
  buildGenerator()
  const pair = createPair()
  loadRules(pair, PORTS, 0)
  const env = {
    date: new Date().toISOString(),
    mode: QUICK ? 'quick' : 'full',
    kernel: os.release(),
    cpus: os.cpus().length,
    node: process.version,
    bpftrace: firstLine(sh(['bpftrace', '--version'], { allowFail: true })) || 'not installed',
    generator: path.basename(GEN[0] ?? ''),
    loadavgStart: os.loadavg().map((x) => Number(x.toFixed(2))),
    loadavgEnd: [] as number[],
    durationS: 0,
    /** median wall time of `node -e 0` in this run */
    nodeStartMs: 0,
    config: CFG,
  }
  log(`bench: ${env.mode} run on ${env.kernel}, ${env.cpus} CPUs, load ${env.loadavgStart.join(' ')}; namespaces ${pair.sender}/${pair.receiver}`)
  env.nodeStartMs = await nodeBaseline(CFG.startRuns)
  log(`bench: node -e 0: median ${env.nodeStartMs} ms`)
  const results: Result[] = []
  for (const s of SUBJECTS.filter((x) => !ONLY || ONLY.includes(x.key))) {
    s.cmd = s.cmd.map((a) => a.replace('{NETNS}', `/run/netns/${pair.receiver}`))
    const r: Result = { key: s.key, tool: s.tool, label: s.label, impl: s.impl, command: s.cmd.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ').replace(ROOT + '/', ''), runs: [] }
    results.push(r)
    if (!which(s.cmd[0] ?? '')) {
      r.failsToStart = `${s.cmd[0]}: command not found`
      continue
    }
    log(`bench: ${s.key}: start → attached ×${CFG.startRuns}`)
    await measureStart(s, r, CFG.startRuns)
    if (r.failsToStart) {
      log(`  fails to start: ${r.failsToStart}`)
      continue
    }
    log(`  median ${r.start?.medianMs} ms [${r.start?.minMs}–${r.start?.maxMs}]`)
    if (START_ONLY) continue
    if (s.tool === 'tcpretrans' || s.scenario === 'estab') await retransmits(pair, s, r)
    else await dropStorms(pair, s, r)
    lossFree(r)
  }
  env.loadavgEnd = os.loadavg().map((x) => Number(x.toFixed(2)))
  env.durationS = Math.round((Date.now() - began) / 1000)

  log(`bench: ${env.durationS} s`)
  writeResults(env, results)
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    log(`bench: error: ${err.message}`)
    process.exit(1)
  },
)
