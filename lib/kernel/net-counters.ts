// The kernel's own counters of one network namespace, to put beside what a
// tool saw: /proc/net/snmp and /proc/net/netstat (`TcpRetransSegs`,
// `TcpExtTCPZeroWindowDrop`, …), /proc/net/dev (per device), and
// /proc/net/softnet_stat (backlog drops per CPU: the same in every namespace).
// Another namespace's files are read from inside it: this thread joins it
// (setns), reads, and returns, all synchronously, so a namespace with no
// process in it (an `ip netns add` one) works too.
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'

/** rx/tx columns of /proc/net/dev that count lost packets, as the kernel
 *  prints them: `drop` is dropped + missed (rx_missed_errors: the NIC's ring was
 *  full), `fifo` the FIFO overruns, `frame` the length, over, CRC and frame
 *  errors; `carrier` lost carrier on send. `errs` is left out: it is the sum of
 *  errors already counted by the others, and `colls` loses nothing. */
export const DEVICE_COUNTERS = {
  rx: ['drop', 'fifo', 'frame'],
  tx: ['drop', 'fifo', 'carrier'],
} as const

/** `dev/direction/counter`: how a device counter is keyed in a snapshot. */
export function deviceKey(d: Pick<DeviceCount, 'device' | 'direction' | 'counter'>): string {
  return `${d.device}/${d.direction}/${d.counter}`
}

export interface DeviceCount {
  device: string
  direction: 'rx' | 'tx'
  counter: string
  count: number
}

export interface CounterSnapshot {
  /** Tcp*, TcpExt*, Ip*, Udp*… from snmp and netstat, prefixed as `nstat` names them. */
  mib: Map<string, number>
  /** `dev/direction/counter` → value. */
  devices: Map<string, number>
  /** CPU → packets dropped because its backlog was full (netdev_max_backlog). */
  backlog: Map<number, number>
}

/** "Tcp: names…" / "Tcp: values…" line pairs → `TcpRetransSegs` → value. */
export function parseSnmp(text: string): Map<string, number> {
  const out = new Map<string, number>()
  const lines = text.trim().split('\n')
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = (lines[i] ?? '').trim().split(/\s+/)
    const values = (lines[i + 1] ?? '').trim().split(/\s+/)
    const prefix = (names[0] ?? '').replace(/:$/, '')
    for (let j = 1; j < names.length; j++) out.set(`${prefix}${names[j]}`, Number(values[j]))
  }
  return out
}

/** /proc/net/dev → `dev/rx/drop` → value (only the DEVICE_COUNTERS columns). */
export function parseNetDev(text: string): Map<string, number> {
  const out = new Map<string, number>()
  const lines = text.split('\n')
  const header = (lines[1] ?? '').split('|')
  const columns = { rx: (header[1] ?? '').trim().split(/\s+/), tx: (header[2] ?? '').trim().split(/\s+/) }
  for (const line of lines.slice(2)) {
    const at = line.indexOf(':')
    if (at < 0) continue
    const dev = line.slice(0, at).trim()
    const values = line.slice(at + 1).trim().split(/\s+/).map(Number)
    for (const direction of ['rx', 'tx'] as const) {
      const offset = direction === 'rx' ? 0 : columns.rx.length
      for (const name of DEVICE_COUNTERS[direction]) {
        const i = columns[direction].indexOf(name)
        if (i >= 0) out.set(deviceKey({ device: dev, direction, counter: name }), values[offset + i] ?? 0)
      }
    }
  }
  return out
}

/** /proc/net/softnet_stat: a hex row per online CPU, `dropped` second; the CPU
 *  number is the 13th column where the kernel prints it (5.10+), else the row. */
export function parseSoftnet(text: string): Map<number, number> {
  const out = new Map<number, number>()
  text
    .trim()
    .split('\n')
    .forEach((line, row) => {
      const cols = line.trim().split(/\s+/)
      if (cols.length < 2) return
      const cpu = cols.length >= 13 ? parseInt(cols[12] ?? '', 16) : row
      out.set(cpu, parseInt(cols[1] ?? '0', 16))
    })
  return out
}

/** The path to enter a namespace known by inode (null: this process's own;
 *  undefined: no path to it found, e.g. a bind mount outside /run/netns whose
 *  processes are gone — then its counters cannot be read, never this one's). */
export function netnsPath(inode: number | null): string | null | undefined {
  if (inode === null || statSync('/proc/self/ns/net').ino === inode) return null
  const candidates = [
    ...list('/run/netns').map((n) => `/run/netns/${n}`),
    ...list('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map((pid) => `/proc/${pid}/ns/net`),
  ]
  for (const path of candidates) {
    try {
      if (statSync(path).ino === inode) return path
    } catch {
      // gone, or not ours to see
    }
  }
  return undefined
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

const CLONE_NEWNET = 0x40000000
let setnsFn: ((fd: number, type: number) => number) | null = null

function setns(fd: number): void {
  if (!setnsFn) {
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi')
    setnsFn = koffi.load('libc.so.6').func('int setns(int fd, int nstype)') as (fd: number, type: number) => number
  }
  if (setnsFn(fd, CLONE_NEWNET) !== 0) throw new Error('setns(CLONE_NEWNET) failed')
}

/** Runs `read` inside the namespace at `path` (this process's own when null). */
function inNamespace<T>(path: string | null, read: () => T): T {
  if (path === null) return read()
  const home = openSync('/proc/thread-self/ns/net', 'r')
  const target = openSync(path, 'r')
  try {
    setns(target)
    try {
      return read()
    } finally {
      setns(home)
    }
  } finally {
    closeSync(target)
    closeSync(home)
  }
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

/** What the kernel counted in one namespace between two snapshots. */
export interface KernelCounts {
  /** The namespace (inode) the counters are of. */
  netns: number
  /** Snmp/netstat counters that moved, e.g. `TcpRetransSegs` → 85. */
  mib: Map<string, number>
  devices: DeviceCount[]
  /** CPU → backlog drops (softnet_stat: every namespace's). */
  backlog: Map<number, number>
}

/** Reads the counters of one namespace; null when they cannot be read (then the run says so once, at start). */
export class NetCounters {
  readonly #path: string | null | undefined
  readonly netns: number

  /** `inode`: the traced namespace (--netns), null for this process's own. */
  constructor(inode: number | null) {
    this.#path = netnsPath(inode)
    this.netns = inode ?? statSync('/proc/self/ns/net').ino
  }

  /** What moved between two snapshots (null when either could not be read). */
  between(before: CounterSnapshot | null, after: CounterSnapshot | null): KernelCounts | null {
    if (!before || !after) return null
    return { netns: this.netns, mib: mibDeltas(before, after), devices: deviceDeltas(before, after), backlog: backlogDeltas(before, after) }
  }

  snapshot(): CounterSnapshot | null {
    const path = this.#path
    if (path === undefined) return null
    try {
      return inNamespace(path, () => {
        // /proc/thread-self follows this thread's namespace (/proc/self, the leader's).
        const net = '/proc/thread-self/net'
        const mib = parseSnmp(readOr(`${net}/snmp`))
        for (const [k, v] of parseSnmp(readOr(`${net}/netstat`))) mib.set(k, v)
        if (mib.size === 0) return null
        return { mib, devices: parseNetDev(readOr(`${net}/dev`)), backlog: parseSoftnet(readOr(`${net}/softnet_stat`)) }
      })
    } catch {
      return null
    }
  }
}

/** after − before of each MIB counter that moved. */
export function mibDeltas(before: CounterSnapshot, after: CounterSnapshot): Map<string, number> {
  const out = new Map<string, number>()
  for (const [k, v] of after.mib) {
    const d = v - (before.mib.get(k) ?? 0)
    if (d !== 0) out.set(k, d)
  }
  return out
}

/** Device counters that moved (a device that appeared counts from 0). */
export function deviceDeltas(before: CounterSnapshot, after: CounterSnapshot): DeviceCount[] {
  const out: DeviceCount[] = []
  for (const [key, v] of after.devices) {
    const d = v - (before.devices.get(key) ?? 0)
    if (d <= 0) continue
    const [device = '', direction = 'rx', counter = ''] = key.split('/')
    out.push({ device, direction: direction as 'rx' | 'tx', counter, count: d })
  }
  return out.sort((a, b) => b.count - a.count || a.device.localeCompare(b.device))
}

/** CPU → backlog drops that moved. */
export function backlogDeltas(before: CounterSnapshot, after: CounterSnapshot): Map<number, number> {
  const out = new Map<number, number>()
  for (const [cpu, v] of after.backlog) {
    const d = v - (before.backlog.get(cpu) ?? 0)
    if (d > 0) out.set(cpu, d)
  }
  return out
}
