// Which process owns a socket (tcpdrop --owner): socket inode → pid/comm, from
// the `socket:[INODE]` links in /proc/*/fd. Scanning /proc is costly, so the
// table is rebuilt at most once a second, and only when an unknown inode shows
// up. Needs CAP_SYS_PTRACE/CAP_DAC_READ_SEARCH for other users' processes.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

export interface SocketOwner {
  pid: number
  comm: string
}

const MIN_RESCAN_MS = 1000

export class SocketOwners {
  #table = new Map<number, SocketOwner>()
  #scannedAt = 0
  readonly #procRoot: string

  constructor(procRoot = '/proc') {
    this.#procRoot = procRoot
  }

  lookup(inode: number, now = Date.now()): SocketOwner | null {
    if (inode === 0) return null
    const hit = this.#table.get(inode)
    if (hit) return hit
    if (now - this.#scannedAt < MIN_RESCAN_MS) return null
    this.#rescan(now)
    return this.#table.get(inode) ?? null
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
