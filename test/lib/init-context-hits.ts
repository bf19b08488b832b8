// Tracepoint hits that no BPF program is run for, counted independently.
//
// Measured on the 6.18 Firecracker guests these tests run on: for a hit in a
// softirq that runs on top of one of PID 1's threads (this machine's init, an
// agent), no BPF program runs — tp_btf, raw_tracepoint and perf-event
// tracepoint programs alike, their run_cnt stays short and recursion_misses 0 —
// while the ftrace event of the same tracepoint records it (README, "Nested
// events and known limits"). A test that compares BPF records with the kernel's counters counts
// those hits with ftrace, in a tracefs instance of its own (record-tgid on),
// and takes them off the kernel's count. Everything else must match exactly.
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

const TRACEFS = '/sys/kernel/tracing'

export interface InitContextHits {
  /** Stops recording; the hits in PID 1's context whose line `keep` accepts. */
  stop(keep?: (line: string) => boolean): { hits: number; total: number }
  /** Removes the instance if stop() did not (a test that failed half way). */
  close(): void
}

/** Records `event` (e.g. 'tcp/tcp_retransmit_skb') with an ftrace `filter` until stop(). */
export function recordInitContextHits(event: string, filter: string): InitContextHits {
  if (!existsSync(`${TRACEFS}/events`)) execFileSync('mount', ['-t', 'tracefs', 'nodev', TRACEFS])
  const dir = `${TRACEFS}/instances/netdrop_test_hits_${process.pid}`
  mkdirSync(dir)
  const write = (file: string, value: string) => writeFileSync(`${dir}/${file}`, value)
  try {
    write('buffer_size_kb', '16384')
    write('options/record-tgid', '1')
    write(`events/${event}/filter`, filter)
    write(`events/${event}/enable`, '1')
  } catch (err) {
    rmdirSync(dir)
    throw err
  }
  const close = () => {
    if (!existsSync(dir)) return
    write(`events/${event}/enable`, '0')
    rmdirSync(dir)
  }
  return {
    close,
    stop(keep = () => true) {
      write(`events/${event}/enable`, '0')
      const text = readFileSync(`${dir}/trace`, 'utf8')
      close()
      const kept = /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(text)
      if (kept && kept[1] !== kept[2]) throw new Error(`ftrace instance overwrote events (${kept[1]}/${kept[2]})`)
      const lines = text.split('\n').filter((l) => !l.startsWith('#') && l.includes(`${event.split('/')[1]}:`) && keep(l))
      // "  comm-TID  (   TGID) [CPU] flags  ts: event: …"
      const hits = lines.filter((l) => /\(\s*1\)\s+\[\d+\]/.test(l)).length
      return { hits, total: lines.length }
    },
  }
}
