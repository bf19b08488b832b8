// Test hosts: two network namespaces joined by a veth pair, with the kernel's
// own counters (nstat) as ground truth (SPEC §7). Only 198.18.0.0/15 and
// fd00::/8 addresses, every loop bounded, everything removed afterwards.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'

export interface NetnsPair {
  sender: string
  receiver: string
  v4: { sender: string; receiver: string }
  v6: { sender: string; receiver: string }
  /** The veth ends: `sender`'s in the sender namespace, `receiver`'s in the receiver's. */
  dev: { sender: string; receiver: string }
  /** Runs a command in a namespace and returns its stdout. */
  exec(ns: string, cmd: string[], opts?: { input?: string; allowFail?: boolean; timeoutMs?: number }): string
  /** Starts a background command in a namespace (killed by cleanup). */
  spawn(ns: string, cmd: string[]): ChildProcess
  counters(ns: string): Map<string, number>
  cleanup(): void
}

function sh(cmd: string[], input?: string, allowFail = false, timeoutMs = 30000): string {
  try {
    return execFileSync(cmd[0] ?? 'false', cmd.slice(1), { input, encoding: 'utf8', timeout: timeoutMs, stdio: ['pipe', 'pipe', 'pipe'] })
  } catch (err) {
    if (allowFail) return ''
    const e = err as { stderr?: string; message: string }
    throw new Error(`${cmd.join(' ')}: ${e.stderr?.trim() || e.message}`)
  }
}

/** Parses /proc/net/snmp or /proc/net/netstat ("Tcp: names…" / "Tcp: values…" line pairs).
 *  Kept apart from lib/kernel/net-counters.ts on purpose: ground truth read
 *  without the code under test (tests compare the tools' own reading with it). */
export function parseSnmp(text: string): Map<string, number> {
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

export function delta(before: Map<string, number>, after: Map<string, number>, key: string): number {
  return (after.get(key) ?? 0) - (before.get(key) ?? 0)
}

/** Removes test namespaces left by test processes that died (names carry the PID). */
function removeStaleNamespaces(): void {
  const list = sh(['ip', 'netns', 'list'], undefined, true)
  for (const line of list.split('\n')) {
    const m = /^(ndt-[a-z]+(\d+)-[sr])\b/.exec(line)
    if (!m) continue
    const pid = Number(m[2])
    let alive = false
    try {
      process.kill(pid, 0)
      alive = true
    } catch {
      alive = false
    }
    if (!alive) sh(['ip', 'netns', 'del', m[1] ?? ''], undefined, true)
  }
}

/** Creates the pair. `subnet` picks 198.18.<subnet>.0/24 and fd00:<subnet>::/64. */
export function createNetnsPair(label: string, subnet: number): NetnsPair {
  const id = `${label}${process.pid % 100000}`
  const sender = `ndt-${id}-s`
  const receiver = `ndt-${id}-r`
  const vs = `nv${process.pid % 100000}${label.slice(0, 2)}s`
  const vr = `nv${process.pid % 100000}${label.slice(0, 2)}r`
  const v4 = { sender: `198.18.${subnet}.1`, receiver: `198.18.${subnet}.2` }
  const v6 = { sender: `fd00:${subnet.toString(16)}::1`, receiver: `fd00:${subnet.toString(16)}::2` }
  const children: ChildProcess[] = []
  const pair: NetnsPair = {
    sender,
    receiver,
    v4,
    v6,
    dev: { sender: vs, receiver: vr },
    exec: (ns, cmd, opts = {}) => sh(['ip', 'netns', 'exec', ns, ...cmd], opts.input, opts.allowFail, opts.timeoutMs),
    spawn: (ns, cmd) => {
      const c = spawn('ip', ['netns', 'exec', ns, ...cmd], { stdio: 'ignore' })
      children.push(c)
      return c
    },
    counters: (ns) => {
      const snmp = parseSnmp(sh(['ip', 'netns', 'exec', ns, 'cat', '/proc/net/snmp']))
      const netstat = parseSnmp(sh(['ip', 'netns', 'exec', ns, 'cat', '/proc/net/netstat']))
      return new Map([...snmp, ...netstat])
    },
    cleanup: () => {
      for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
      sh(['ip', 'netns', 'del', sender], undefined, true)
      sh(['ip', 'netns', 'del', receiver], undefined, true)
    },
  }
  try {
    removeStaleNamespaces()
    pair.cleanup()
    sh(['ip', 'netns', 'add', sender])
    sh(['ip', 'netns', 'add', receiver])
    sh(['ip', 'link', 'add', vs, 'type', 'veth', 'peer', 'name', vr])
    sh(['ip', 'link', 'set', vs, 'netns', sender])
    sh(['ip', 'link', 'set', vr, 'netns', receiver])
    for (const [ns, dev, a4, a6] of [
      [sender, vs, v4.sender, v6.sender],
      [receiver, vr, v4.receiver, v6.receiver],
    ] as const) {
      sh(['ip', '-n', ns, 'addr', 'add', `${a4}/24`, 'dev', dev])
      sh(['ip', '-n', ns, 'addr', 'add', `${a6}/64`, 'dev', dev, 'nodad'])
      sh(['ip', '-n', ns, 'link', 'set', dev, 'up'])
      sh(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
    }
    // One skb = one segment, so retransmit records and TcpRetransSegs compare 1:1 (SPEC §7).
    sh(['ip', '-n', sender, 'link', 'set', vs, 'gso_max_segs', '1'])
    sh(['ip', '-n', receiver, 'link', 'set', vr, 'gso_max_segs', '1'])
    for (const ns of [sender, receiver]) {
      pair.exec(ns, ['sysctl', '-qw', 'net.ipv4.tcp_syn_retries=1', 'net.ipv4.tcp_synack_retries=2'])
    }
  } catch (err) {
    pair.cleanup()
    throw err
  }
  return pair
}

/** Loads an nft ruleset in a namespace (receiver's input hook: SPEC §7). */
export function nft(pair: NetnsPair, ns: string, ruleset: string): void {
  pair.exec(ns, ['nft', '-f', '-'], { input: ruleset })
}

/** Packets counted by the nft rule carrying `comment "NAME"`. */
export function nftCounter(pair: NetnsPair, ns: string, name: string): number {
  const json = JSON.parse(pair.exec(ns, ['nft', '-j', 'list', 'ruleset'])) as { nftables: Array<Record<string, unknown>> }
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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
