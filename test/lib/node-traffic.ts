// Traffic made with node alone, for guests without iperf3 (test/legacy): a
// bulk transfer from the sender namespace to a sink in the receiver namespace.
import type { NetnsPair } from './netns.js'
import { sleep } from './netns.js'

/** Sends `bytes` from sender to addr:port (a sink listens in the receiver); bounded by `limitS`. */
export async function nodeBulkTransfer(pair: NetnsPair, addr: string, port: number, bytes: number, limitS = 60): Promise<void> {
  const sink = `require('net').createServer((s) => { s.on('data', () => {}); s.on('error', () => {}); s.on('close', () => process.exit(0)) })
    .listen(${port}, '::'); setTimeout(() => process.exit(0), ${limitS * 1000})`
  const server = pair.spawn(pair.receiver, [process.execPath, '-e', sink])
  try {
    for (let i = 0; i < 100; i++) {
      if (pair.exec(pair.receiver, ['ss', '-Hltn', `sport = :${port}`]).trim()) break
      await sleep(100)
    }
    const client = `const s = require('net').connect(${port}, '${addr}', () => {
        const chunk = Buffer.alloc(65536, 97); let sent = 0
        const pump = () => { while (sent < ${bytes}) { sent += chunk.length; if (!s.write(chunk)) return s.once('drain', pump) } s.end() }
        pump() })
      s.on('close', () => process.exit(0)); s.on('error', (e) => { console.error(e.message); process.exit(1) })
      setTimeout(() => process.exit(2), ${limitS * 1000})`
    pair.exec(pair.sender, [process.execPath, '-e', client], { timeoutMs: (limitS + 5) * 1000 })
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL')
  }
}
