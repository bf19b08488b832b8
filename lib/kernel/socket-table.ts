// Sockets by kernel pointer, from /proc/net/tcp{,6} of every network namespace
// (or only the wanted one): kprobe fetch-args give a raw `struct sock *`, and
// this is where its addresses come from when the probe cannot read them. The
// tables are re-read at least once a second and on demand when an unknown
// pointer appears; the previous read is kept, so a socket that closed just
// after its event still resolves. A join needs /proc to print raw pointers
// (kptr_restrict=1 and CAP_SYSLOG); this module never changes kptr_restrict.
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from 'node:fs'
import { CAP, hasCapability } from './capabilities.js'
import { normalizePointer, parseProcNetTcp, pointerMode, type PointerMode, type ProcTcpEntry } from './proc-net-tcp.js'

/** Re-read on demand at most this often (a burst of unknown sockets costs one read). */
const ON_DEMAND_MIN_MS = 50
const PERIODIC_MS = 1000

/** What the pointer column will hold for this process, from kptr_restrict and CAP_SYSLOG. */
export function expectedPointerMode(): { mode: PointerMode; kptrRestrict: number | null } {
  let kptr: number | null = null
  try {
    kptr = Number(readFileSync('/proc/sys/kernel/kptr_restrict', 'utf8').trim())
  } catch {
    return { mode: 'unknown', kptrRestrict: null }
  }
  if (kptr === 0) return { mode: 'hashed', kptrRestrict: kptr }
  if (kptr === 1) return { mode: hasCapability(CAP.SYSLOG) ? 'raw' : 'zero', kptrRestrict: kptr }
  return { mode: 'zero', kptrRestrict: kptr }
}

/** Why a pointer join cannot work in this mode (null when it can). */
export function joinImpossibleReason(mode: PointerMode, kptrRestrict: number | null): string | null {
  const k = kptrRestrict === null ? '' : `kptr_restrict=${kptrRestrict}: `
  if (mode === 'hashed') return `${k}/proc/net/tcp6 prints hashed socket pointers, kprobe arguments are raw; a join needs kptr_restrict=1 with CAP_SYSLOG`
  if (mode === 'zero') return `${k}/proc/net/tcp6 prints zeros for socket pointers; a join needs kptr_restrict=1 with CAP_SYSLOG`
  return null
}

/** Why this process cannot read its own /proc/net/tcp{,6} (null when it can):
 *  every socket join starts there. A missing tcp6 (no IPv6) is not a problem. */
export function procNetTcpProblem(procNet = '/proc/self/net'): string | null {
  for (const table of ['tcp', 'tcp6']) {
    let fd: number | null = null
    try {
      // The first bytes are enough to know: the whole table can be megabytes.
      fd = openSync(`${procNet}/${table}`, 'r')
      readSync(fd, Buffer.alloc(64))
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (table === 'tcp6' && code === 'ENOENT') continue
      return `cannot read /proc/net/${table} (${code ?? (err as Error).message}): sockets cannot be joined`
    } finally {
      if (fd !== null) closeSync(fd)
    }
  }
  return null
}

/** One process per network namespace (its /proc/PID/net shows that namespace's sockets). */
export function processesByNetns(): Map<number, number> {
  const out = new Map<number, number>()
  let pids: string[]
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n))
  } catch {
    return out
  }
  for (const pid of pids) {
    try {
      const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`))
      const ino = m ? Number(m[1]) : NaN
      if (Number.isFinite(ino) && !out.has(ino)) out.set(ino, Number(pid))
    } catch {
      // gone, or a kernel thread we may not inspect
    }
  }
  return out
}

export interface SocketTableOptions {
  tables: ReadonlyArray<'tcp' | 'tcp6'>
  /** Only this network namespace (inode), else all of them. */
  netns: number | null
  now?: () => number
}

export class SocketTable {
  readonly #opts: SocketTableOptions
  readonly #now: () => number
  #current = new Map<string, ProcTcpEntry>()
  #previous = new Map<string, ProcTcpEntry>()
  #readAt = -Infinity
  #mode: PointerMode = 'unknown'
  reads = 0

  constructor(opts: SocketTableOptions) {
    this.#opts = opts
    this.#now = opts.now ?? (() => Date.now())
  }

  /** The mode seen in the last read ('unknown' before one or when every table was empty). */
  get mode(): PointerMode {
    return this.#mode
  }

  /** The socket behind a raw pointer, re-reading the tables once when it is not known yet. */
  lookup(pointer: string): ProcTcpEntry | null {
    const key = normalizePointer(pointer)
    if (this.#now() - this.#readAt >= PERIODIC_MS) this.refresh()
    const hit = this.#current.get(key) ?? this.#previous.get(key)
    if (hit) return hit
    if (this.#now() - this.#readAt < ON_DEMAND_MIN_MS) return null
    this.refresh()
    return this.#current.get(key) ?? this.#previous.get(key) ?? null
  }

  /** Periodic re-read (the caller's timer), so sockets are seen before they close. */
  tick(): void {
    if (this.#now() - this.#readAt >= PERIODIC_MS) this.refresh()
  }

  refresh(): void {
    const entries: ProcTcpEntry[] = []
    for (const dir of this.#netDirs()) {
      for (const table of this.#opts.tables) {
        try {
          entries.push(...parseProcNetTcp(readFileSync(`${dir}/${table}`, 'utf8'), table))
        } catch {
          // the process left (its namespace may be gone too), or no IPv6
        }
      }
    }
    this.#previous = this.#current
    this.#current = new Map(entries.map((e) => [e.pointer, e]))
    const mode = pointerMode(entries)
    if (mode !== 'unknown') this.#mode = mode
    this.#readAt = this.#now()
    this.reads++
  }

  #netDirs(): string[] {
    const byNs = processesByNetns()
    if (this.#opts.netns !== null) {
      const pid = byNs.get(this.#opts.netns)
      return pid === undefined ? [] : [`/proc/${pid}/net`]
    }
    return byNs.size > 0 ? [...byNs.values()].map((pid) => `/proc/${pid}/net`) : ['/proc/self/net']
  }
}
