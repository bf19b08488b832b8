// Which process owns a socket (tcpdrop --owner): socket inode → pid/comm, from
// the `socket:[INODE]` links in /proc/*/fd. Scanning /proc is costly, so the
// table is rebuilt only when an unknown inode shows up, at most every 20 ms
// (short-lived connections must still be found), and an inode that a rescan
// did not find is not searched again for a second. Needs CAP_SYS_PTRACE/CAP_DAC_READ_SEARCH for other users' processes.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

export interface SocketOwner {
  pid: number
  comm: string
}

const MIN_RESCAN_MS = 20
const UNKNOWN_TTL_MS = 1000

export class SocketOwners {
  #table = new Map<number, SocketOwner>()
  #unknown = new Map<number, number>()
  #scannedAt = 0
  readonly #procRoot: string

  constructor(procRoot = '/proc') {
    this.#procRoot = procRoot
  }

  /** Reads the table now (at start, so the first events need no scan). */
  warm(now = Date.now()): void {
    this.#rescan(now)
  }

  lookup(inode: number, now = Date.now()): SocketOwner | null {
    if (inode === 0) return null
    const hit = this.#table.get(inode)
    if (hit) return hit
    const missedAt = this.#unknown.get(inode)
    if (missedAt !== undefined && now - missedAt < UNKNOWN_TTL_MS) return null
    if (now - this.#scannedAt < MIN_RESCAN_MS) return null
    this.#rescan(now)
    const found = this.#table.get(inode) ?? null
    if (!found) {
      // Only a rescan that really looked may rule the inode out for a while.
      if (this.#unknown.size > 10000) this.#unknown.clear()
      this.#unknown.set(inode, now)
    }
    return found
  }

  #rescan(now: number): void {
    this.#scannedAt = now
    const table = new Map<number, SocketOwner>()
    let pids: string[]
    try {
      pids = readdirSync(this.#procRoot).filter((d) => /^\d+$/.test(d))
    } catch {
      return
    }
    for (const pid of pids) {
      let fds: string[]
      try {
        fds = readdirSync(`${this.#procRoot}/${pid}/fd`)
      } catch {
        continue // gone, or not ours to read
      }
      let comm: string | null = null
      for (const fd of fds) {
        let link: string
        try {
          link = readlinkSync(`${this.#procRoot}/${pid}/fd/${fd}`)
        } catch {
          continue
        }
        const m = /^socket:\[(\d+)\]$/.exec(link)
        if (!m) continue
        if (comm === null) {
          try {
            comm = readFileSync(`${this.#procRoot}/${pid}/comm`, 'utf8').trimEnd()
          } catch {
            comm = '?'
          }
        }
        const ino = Number(m[1])
        if (!table.has(ino)) table.set(ino, { pid: Number(pid), comm })
      }
    }
    this.#table = table
  }
}
