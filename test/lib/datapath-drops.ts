// TCP data-path drops made on purpose, with the receiving sockets' own count
// (`ss -tm` field `d`, sk_drops) as ground truth: the drops tcp_drop() makes
// (it bumps sk_drops, then frees), in two scenarios measured in
// bench/datapath-drops on 5.10:
// - zero window: the receiver never reads and has a ~4 KiB buffer, while the
//   sender is told the window is 64 KiB (the receiver's ACKs rewritten on the
//   sender's input hook), so data beyond the real window is dropped;
// - receive buffer full: the receiver accepts with a 256 KiB buffer (so its
//   SYN-ACK offers a full initial window), never reads, and shrinks SO_RCVBUF
//   to 4 KiB before the sender writes (a marker file orders the two); the
//   first flight no longer fits, and what the sender keeps sending into the
//   window it was offered is dropped. (bench/datapath-drops' version read for
//   1 s first and made 0–4 drops a run: a socket that has read keeps memory
//   reserved, and the fast path queues into it without checking the buffer.)
// Before ss is read, an nft rule on the receiver's input hook (before TCP)
// freezes the flow, so the counter is final when read.
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { NetnsPair } from './netns.js'
import { nft, nftCounter, sleep } from './netns.js'

export type Scenario = 'zero-window' | 'rcvbuf-full'

const RECEIVER = {
  // Accept, never read.
  'zero-window': (port: number) =>
    `require('net').createServer({ pauseOnConnect: true }, (s) => s.on('error', () => {})).listen(${port}, '::'); setTimeout(() => process.exit(0), 60000)`,
  // Accept, shrink the receive buffer (koffi: setsockopt SOL_SOCKET SO_RCVBUF), never read.
  'rcvbuf-full': (port: number, marker: string) => `
    const net = require('net'); const koffi = require('koffi')
    const setsockopt = koffi.load('libc.so.6').func('int setsockopt(int, int, int, const int *, uint32_t)')
    net.createServer({ pauseOnConnect: true }, (s) => { s.on('error', () => {})
      setsockopt(s._handle.fd, 1, 8, [4096], 4); require('fs').writeFileSync('${marker}', '') }).listen(${port}, '::')
    setTimeout(() => process.exit(0), 60000)`,
}

/** Connects, waits for the marker file if there is one, then writes `bytes`. */
const SENDER = (addr: string, port: number, bytes: number, chunk: number, marker: string | null) => `
  const s = require('net').connect({ host: '${addr}', port: ${port}, noDelay: true })
  s.on('error', () => {})
  const send = () => { const b = Buffer.alloc(${chunk}, 97); for (let n = 0; n < ${bytes}; n += ${chunk}) s.write(b) }
  const marker = ${JSON.stringify(marker)}
  const ready = () => !marker || require('fs').existsSync(marker)
  s.on('connect', function wait() { if (ready()) send(); else setTimeout(wait, 10) })
  setTimeout(() => { s.destroy(); process.exit(0) }, 60000)`

function setupReceiver(pair: NetnsPair, scenario: Scenario): void {
  const sysctl = (...kv: string[]) => pair.exec(pair.receiver, ['sysctl', '-qw', ...kv])
  sysctl('net.ipv4.tcp_moderate_rcvbuf=0')
  if (scenario === 'zero-window') sysctl('net.ipv4.tcp_window_scaling=0', 'net.ipv4.tcp_rmem=4096 8192 8192')
  else sysctl('net.ipv4.tcp_window_scaling=1', 'net.ipv4.tcp_rmem=4096 262144 262144')
}

/** Runs one scenario to addr:port; resolves with the receiver's sk_drops (the flow frozen first). */
export async function dataPathDrops(pair: NetnsPair, scenario: Scenario, addr: string, port: number): Promise<number> {
  setupReceiver(pair, scenario)
  const rewrite = scenario === 'zero-window' ? `tcp sport ${port} tcp window set 65535` : ''
  nft(pair, pair.sender, `table inet ndd\ndelete table inet ndd\ntable inet ndd {\n chain input {\n  type filter hook input priority 0;\n  ${rewrite}\n }\n}`)
  nft(pair, pair.receiver, `table inet ndf\ndelete table inet ndf\ntable inet ndf {\n chain input {\n  type filter hook input priority 0;\n }\n}`)
  const marker = scenario === 'rcvbuf-full' ? join(tmpdir(), `ndt-shrunk-${process.pid}-${port}`) : null
  if (marker) rmSync(marker, { force: true })
  const receiver = pair.spawn(pair.receiver, [process.execPath, '-e', RECEIVER[scenario](port, marker ?? '')])
  try {
    for (let i = 0; i < 100 && !pair.exec(pair.receiver, ['ss', '-Hltn', `sport = :${port}`]).trim(); i++) await sleep(100)
    const [bytes, chunk] = scenario === 'zero-window' ? [200_000, 1000] : [2_000_000, 65536]
    const sender = pair.spawn(pair.sender, [process.execPath, '-e', SENDER(addr, port, bytes, chunk, marker)])
    // 5 s of drops, longer on a slow machine until there are some (at most 20 s).
    const start = Date.now()
    do await sleep(500)
    while (Date.now() - start < 20_000 && (Date.now() - start < 5000 || skDrops(pair, port) === 0))
    // Freeze: nothing more reaches TCP on the receiver, so sk_drops is final.
    nft(pair, pair.receiver, `add rule inet ndf input tcp dport ${port} counter drop comment "${freezeRule(port)}"`)
    await sleep(300)
    const drops = skDrops(pair, port)
    if (sender.exitCode === null) sender.kill('SIGKILL')
    return drops
  } finally {
    if (receiver.exitCode === null) receiver.kill('SIGKILL')
    if (marker) rmSync(marker, { force: true })
  }
}

const freezeRule = (port: number) => `freeze-${port}`

/** Segments the freeze rule dropped (they reach skb:kfree_skb, not tcp_drop()). */
export function frozenDrops(pair: NetnsPair, port: number): number {
  return nftCounter(pair, pair.receiver, freezeRule(port))
}

/** Sum of `d` (sk_drops) over the receiver's sockets on `port`. */
export function skDrops(pair: NetnsPair, port: number): number {
  const text = pair.exec(pair.receiver, ['ss', '-Htmn', 'state', 'all', `sport = :${port}`])
  let sum = 0
  for (const m of text.matchAll(/skmem:\([^)]*\bd(\d+)\)/g)) sum += Number(m[1])
  return sum
}
