// Traffic for integration tests, run inside the test namespaces with the same
// node binary: bulk flows (iperf3), connects to black-holed ports, listeners.
import type { NetnsPair } from './netns.js'
import { sleep } from './netns.js'

/** A bulk TCP transfer of `bytes` from sender to receiver through iperf3. */
export async function bulkTransfer(pair: NetnsPair, addr: string, port: number, bytes: string): Promise<void> {
  const server = pair.spawn(pair.receiver, ['iperf3', '-s', '-1', '-p', String(port)])
  try {
    for (let i = 0; i < 50; i++) {
      const listening = pair.exec(pair.receiver, ['ss', '-Hltn', `sport = :${port}`])
      if (listening.trim()) break
      await sleep(100)
    }
    pair.exec(pair.sender, ['iperf3', '-c', addr, '-p', String(port), '-n', bytes], { timeoutMs: 60000 })
  } finally {
    if (server.exitCode === null) server.kill('SIGKILL')
  }
}

/** `count` connects from the sender to addr:port in parallel; resolves when all ended (bounded). */
export function connectAttempts(pair: NetnsPair, addr: string, port: number, count: number, holdMs = 0): void {
  const script = `
    const net = require('net'); let left = ${count};
    for (let i = 0; i < ${count}; i++) {
      const s = net.connect({ host: '${addr}', port: ${port} });
      s.on('connect', () => setTimeout(() => s.destroy(), ${holdMs}));
      s.on('error', () => {}); s.on('close', () => { if (--left === 0) process.exit(0) });
    }
    setTimeout(() => process.exit(0), 15000);`
  // Generous: Node alone can take many seconds to start in an emulated guest on a busy host.
  pair.exec(pair.sender, [process.execPath, '-e', script], { timeoutMs: 60000 })
}

/** A listener in the receiver namespace on [::]:port (dual-stack). */
export async function listen(pair: NetnsPair, port: number): Promise<() => void> {
  const script = `require('net').createServer((c) => c.on('error', () => {})).listen(${port}, '::'); setTimeout(() => process.exit(0), 60000)`
  const child = pair.spawn(pair.receiver, [process.execPath, '-e', script])
  for (let i = 0; i < 50; i++) {
    if (pair.exec(pair.receiver, ['ss', '-Hltn', `sport = :${port}`]).trim()) break
    await sleep(100)
  }
  return () => {
    if (child.exitCode === null) child.kill('SIGKILL')
  }
}

/** Waits (bounded, 10 s) until neither side has a socket of the flows to
 *  `port` that can still send: the sender none at all, the receiver none but
 *  the listener and TIME-WAIT ones. Either side can retransmit until then (the
 *  receiver its FIN, or a tail loss probe when a loaded CPU delays the ACK), so
 *  counters read earlier can still change. */
export async function flowsGone(pair: NetnsPair, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const sender = pair.exec(pair.sender, ['ss', '-Htn', 'state', 'all', `dport = :${port}`])
    const receiver = pair.exec(pair.receiver, ['ss', '-Htn', 'state', 'connected', 'exclude', 'time-wait', `sport = :${port}`])
    if (!sender.trim() && !receiver.trim()) return
    await sleep(100)
  }
}
