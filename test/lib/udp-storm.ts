// A UDP drop storm of known size from the sender namespace: `count` datagrams
// in bursts of `burst` every `gapMs` (gapMs 0: as fast as node can send).
// Bounded: the sender gives up after 30 s. Ground truth stays the nft counter
// on the receiver, whatever the sender managed to send.
import type { NetnsPair } from './netns.js'

const SCRIPT = `
const [host, port, count, burst, gap] = process.argv.slice(1)
const N = Number(count), B = Number(burst), G = Number(gap)
const s = require('dgram').createSocket(host.includes(':') ? 'udp6' : 'udp4')
const buf = Buffer.alloc(16)
let queued = 0, done = 0, errors = 0
const t0 = Date.now()
const end = (extra) => { console.log(JSON.stringify({ sent: done - errors, errors, ms: Date.now() - t0, ...extra })); process.exit(0) }
const tick = () => {
  for (let i = 0; i < B && queued < N; i++) {
    queued++
    s.send(buf, Number(port), host, (err) => { if (err) errors++; if (++done === N) end({}) })
  }
  if (queued < N) setTimeout(tick, G)
}
tick()
setTimeout(() => end({ timeout: true }), 30000)
`

export interface StormResult {
  sent: number
  errors: number
  ms: number
}

/** `onCpu`: the sender runs on that CPU only (taskset), e.g. away from the CPU that takes the packets. */
export function udpStorm(pair: NetnsPair, host: string, port: number, count: number, burst: number, gapMs: number, onCpu?: number): StormResult {
  const pin = onCpu === undefined ? [] : ['taskset', '-c', String(onCpu)]
  const out = pair.exec(pair.sender, [...pin, process.execPath, '-e', SCRIPT, host, String(port), String(count), String(burst), String(gapMs)], { timeoutMs: 40000 })
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as StormResult
}
