import t from 'tap'
import { parseKeyValues, parseTraceLine } from '../../ftrace/trace-line.js'
import { readdirSync } from 'node:fs'
import { FIXTURES, fixture, fixtureKernels } from '../lib/fixtures.js'

t.test('event lines: comm, pid, cpu, monotonic timestamp, event, body', async (t) => {
  const l = parseTraceLine(
    '          <idle>-0       [000] ..s1.   143.636120: tcp_retransmit_synack: family=AF_INET6 sport=9002 dport=39462',
  )
  t.same(l, { type: 'event', comm: '<idle>', pid: 0, cpu: 0, tsNs: 143_636_120_000n, event: 'tcp_retransmit_synack', body: 'family=AF_INET6 sport=9002 dport=39462' })
})

t.test('comms with spaces, dashes, digits and <...>', async (t) => {
  const a = parseTraceLine('   my worker-7 x-12    [001] d.h2.  10.000001: ev: a=1')
  t.match(a, { type: 'event', comm: 'my worker-7 x', pid: 12, cpu: 1 })
  const b = parseTraceLine('           <...>-3155    [001] .N...   126.900370: tcp_retransmit_skb: skbaddr=1')
  t.match(b, { comm: '<...>', pid: 3155 })
  const c = parseTraceLine('  ksoftirqd/1-22      [001] ..s..   9.5: ev: x=1')
  t.match(c, { comm: 'ksoftirqd/1', pid: 22, tsNs: 9_500_000_000n })
})

t.test('optional tgid column and no irq-info column', async (t) => {
  t.match(parseTraceLine('  iperf3-3161  (   3160) [001] .....   131.474225: ev: k=v'), { comm: 'iperf3', pid: 3161, cpu: 1 })
  t.match(parseTraceLine('  iperf3-3161  [001]   131.474225: ev: k=v'), { comm: 'iperf3', pid: 3161, event: 'ev' })
})

t.test('stack entries, frames and lost notices', async (t) => {
  t.match(parseTraceLine('           <...>-3155    [001] .N...   126.903144: <stack trace>'), { type: 'stack-start', cpu: 1, pid: 3155 })
  t.same(parseTraceLine(' => __tcp_retransmit_skb+0x4ea/0x830'), { type: 'frame', frame: '__tcp_retransmit_skb+0x4ea/0x830' })
  t.same(parseTraceLine('CPU:1 [LOST 123 EVENTS]'), { type: 'lost', cpu: 1, count: 123 })
})

t.test('malformed lines give null, never throw', async (t) => {
  for (const bad of ['', 'garbage', '[001] 1.0: x', 'comm-12 [x] 1.0: ev: a', '\u0000\u0001', 'a-1 [0] .... 1.5:']) {
    t.equal(parseTraceLine(bad), null, JSON.stringify(bad))
  }
})

t.test('fuzz: random corruptions of real lines never throw', async (t) => {
  const lines = fixture('6.18', 'trace_pipe-bulk-stack.txt').split('\n').slice(0, 60)
  let seed = 12345
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  let parsed = 0
  for (let i = 0; i < 5000; i++) {
    const base = lines[Math.floor(rnd() * lines.length)] ?? ''
    const chars = [...base]
    const edits = 1 + Math.floor(rnd() * 4)
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rnd() * (chars.length + 1))
      const op = rnd()
      if (op < 0.33) chars.splice(at, 1)
      else if (op < 0.66) chars.splice(at, 0, String.fromCharCode(Math.floor(rnd() * 256)))
      else chars.splice(at, Math.floor(rnd() * 20))
    }
    const r = parseTraceLine(chars.join(''))
    if (r) parsed++
  }
  t.ok(parsed > 0, `${parsed} of 5000 corrupted lines still parsed, none threw`)
})

t.test('every line of every captured trace_pipe fixture parses', async (t) => {
  let files = 0
  for (const k of fixtureKernels()) {
    const names = readdirSync(new URL(`kernel-${k}/`, FIXTURES)).filter((n) => /^trace_pipe-.*\.txt$/.test(n))
    for (const name of names) {
      files++
      const lines = fixture(k, name).split('\n').filter((l) => l !== '')
      const bad = lines.filter((l) => parseTraceLine(l) === null)
      t.same(bad, [], `${k}/${name}: ${lines.length} lines`)
    }
  }
  t.ok(files >= 10, `${files} captures from ${fixtureKernels().join(', ')}`)
})

t.test('key=value bodies', async (t) => {
  const kv = parseKeyValues('skbaddr=0000 family=AF_INET sport=49950 saddrv6=::ffff:198.18.0.1 state=TCP_ESTABLISHED err=-16')
  t.equal(kv.get('family'), 'AF_INET')
  t.equal(kv.get('saddrv6'), '::ffff:198.18.0.1')
  t.equal(kv.get('err'), '-16')
})
