// Processes, /proc sampling, network namespaces and cleanup for the benchmark.
// Same approach as test/lib/netns.ts, but with `bench-` names (other developers
// run the tests concurrently) and a cleanup registry that also runs on Ctrl-C.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import * as fs from 'node:fs'

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export function sh(cmd: string[], opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}): string {
  try {
    return execFileSync(cmd[0] ?? 'false', cmd.slice(1), {
      input: opts.input,
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 30000,
      stdio: ['pipe', 'pipe', 'pipe'],
      maxBuffer: 64 << 20,
    })
  } catch (err) {
    if (opts.allowFail) return ''
    const e = err as { stderr?: string; message: string }
    throw new Error(`${cmd.join(' ')}: ${e.stderr?.trim() || e.message}`)
  }
}

// ---- cleanup registry (normal end, errors, SIGINT/SIGTERM/SIGHUP) ----
const cleanups: Array<() => void> = []
const live = new Set<ChildProcess>()
export function onCleanup(fn: () => void): void {
  cleanups.unshift(fn)
}
let cleaned = false
export function cleanupAll(): void {
  if (cleaned) return
  cleaned = true
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  for (const fn of cleanups) {
    try {
      fn()
    } catch {
      /* best effort */
    }
  }
}
export function installSignalHandlers(): void {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      process.stderr.write(`\nbench: ${sig}: cleaning up (namespaces, tools, temporary files)\n`)
      // Let traced tools end cleanly first (they release their BPF links / tracefs
      // instances on SIGINT), then force.
      for (const c of live) if (c.exitCode === null) c.kill('SIGINT')
      setTimeout(() => {
        cleanupAll()
        process.exit(130)
      }, 1500).unref()
    })
  }
  process.on('exit', cleanupAll)
}

/** Spawns a child tracked by the cleanup registry. */
export function track(c: ChildProcess): ChildProcess {
  live.add(c)
  c.on('exit', () => live.delete(c))
  return c
}

export function waitExit(c: ChildProcess, ms: number): Promise<boolean> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(true)
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms)
    c.once('exit', () => {
      clearTimeout(t)
      resolve(true)
    })
  })
}

/** SIGINT, then SIGKILL after `graceMs`. Returns true when it ended on SIGINT. */
export async function stop(c: ChildProcess, graceMs = 15000): Promise<boolean> {
  if (c.exitCode !== null || c.signalCode !== null) return true
  c.kill('SIGINT')
  if (await waitExit(c, graceMs)) return true
  c.kill('SIGKILL')
  await waitExit(c, 5000)
  return false
}

/** Runs a command to completion (bounded), returning stdout. */
export function run(cmd: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = track(spawn(cmd[0] ?? 'false', cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }))
    let stdout = ''
    let stderr = ''
    c.stdout?.on('data', (d: Buffer) => (stdout += d.toString()))
    c.stderr?.on('data', (d: Buffer) => (stderr += d.toString()))
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs)
    c.on('exit', (code) => {
      clearTimeout(t)
      resolve({ code, stdout, stderr })
    })
  })
}

// ---- /proc sampling ----
export const CLK_TCK = Number(sh(['getconf', 'CLK_TCK'], { allowFail: true }).trim()) || 100

/** utime + stime of a process, in clock ticks (null when gone). */
export function cpuTicks(pid: number): number | null {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    // fields after ")": state(3) ... utime(14) stime(15) → indexes 11, 12
    return Number(f[11]) + Number(f[12])
  } catch {
    return null
  }
}

/** Peak resident set (VmHWM) in KiB. */
export function vmHWM(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : null
  } catch {
    return null
  }
}

// ---- network namespaces ----
export interface Pair {
  sender: string
  receiver: string
  vs: string
  vr: string
  src: string
  dst: string
  exec(ns: string, cmd: string[], opts?: { input?: string; allowFail?: boolean; timeoutMs?: number }): string
  counters(ns: string): Map<string, number>
}

function parseSnmp(text: string): Map<string, number> {
  const out = new Map<string, number>()
  const lines = text.trim().split('\n')
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = (lines[i] ?? '').split(/\s+/)
    const values = (lines[i + 1] ?? '').split(/\s+/)
    const prefix = (names[0] ?? '').replace(/:$/, '')
    for (let j = 1; j < names.length; j++) out.set(`${prefix}${names[j]}`, Number(values[j]))
  }
  return out
}

export function createPair(): Pair {
  const id = process.pid % 100000
  const sender = `bench-${id}-s`
  const receiver = `bench-${id}-r`
  const vs = `bch${id}s`
  const vr = `bch${id}r`
  const src = '198.19.250.1'
  const dst = '198.19.250.2'
  const pair: Pair = {
    sender,
    receiver,
    vs,
    vr,
    src,
    dst,
    exec: (ns, cmd, opts = {}) => sh(['ip', 'netns', 'exec', ns, ...cmd], opts),
    counters: (ns) =>
      new Map([
        ...parseSnmp(sh(['ip', 'netns', 'exec', ns, 'cat', '/proc/net/snmp'])),
        ...parseSnmp(sh(['ip', 'netns', 'exec', ns, 'cat', '/proc/net/netstat'])),
      ]),
  }
  const remove = () => {
    sh(['ip', 'netns', 'del', sender], { allowFail: true })
    sh(['ip', 'netns', 'del', receiver], { allowFail: true })
    sh(['ip', 'link', 'del', vs], { allowFail: true })
  }
  onCleanup(remove)
  remove()
  sh(['ip', 'netns', 'add', sender])
  sh(['ip', 'netns', 'add', receiver])
  sh(['ip', 'link', 'add', vs, 'type', 'veth', 'peer', 'name', vr])
  sh(['ip', 'link', 'set', vs, 'netns', sender])
  sh(['ip', 'link', 'set', vr, 'netns', receiver])
  for (const [ns, dev, a] of [
    [sender, vs, src],
    [receiver, vr, dst],
  ] as const) {
    sh(['ip', '-n', ns, 'addr', 'add', `${a}/24`, 'dev', dev])
    sh(['ip', '-n', ns, 'link', 'set', dev, 'up'])
    sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
    // One skb = one segment: retransmit records compare 1:1 with TcpRetransSegs (SPEC §7).
    sh(['ip', '-n', ns, 'link', 'set', dev, 'gso_max_segs', '1'])
    pair.exec(ns, ['sysctl', '-qw', 'net.ipv4.tcp_syn_retries=1', 'net.ipv4.tcp_synack_retries=2'])
  }
  // A 5 ms RTO floor keeps the bulk flow fast despite a large fraction of dropped
  // segments, so retransmit rates reach thousands per second.
  sh(['ip', '-n', sender, 'route', 'change', `${dst.replace(/\.\d+$/, '.0')}/24`, 'dev', vs, 'rto_min', '5ms'])
  return pair
}

/** (Re)loads the receiver's input-hook ruleset: UDP and SYN sinks, and a random
 *  fraction (permille) of data segments of the bulk flow. */
export function loadRules(pair: Pair, ports: { udp: number; syn: number; rtx: number }, rtxPermille: number): void {
  pair.exec(pair.receiver, ['nft', 'delete', 'table', 'inet', 'bench'], { allowFail: true })
  const rules = [
    'table inet bench {',
    ' chain input {',
    '  type filter hook input priority 0; policy accept;',
    `  udp dport ${ports.udp} counter drop comment "udp"`,
    `  tcp dport ${ports.syn} counter drop comment "syn"`,
    `  tcp dport ${ports.rtx} meta length gt 200 numgen random mod 1000 lt ${rtxPermille} counter drop comment "rtx"`,
    ' }',
    '}',
    '',
  ].join('\n')
  pair.exec(pair.receiver, ['nft', '-f', '-'], { input: rules })
}

export function nftCounter(pair: Pair, name: string): number {
  const json = JSON.parse(pair.exec(pair.receiver, ['nft', '-j', 'list', 'table', 'inet', 'bench'])) as {
    nftables: Array<Record<string, unknown>>
  }
  for (const item of json.nftables) {
    const rule = item.rule as { comment?: string; expr?: Array<Record<string, unknown>> } | undefined
    if (rule?.comment !== name) continue
    for (const e of rule.expr ?? []) {
      const c = e.counter as { packets?: number } | undefined
      if (c) return c.packets ?? 0
    }
  }
  throw new Error(`no nft rule with comment ${name}`)
}
