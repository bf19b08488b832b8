import t from 'tap'
import { StackJoiner } from '../../ftrace/stack-joiner.js'
import { parseTraceLine } from '../../ftrace/trace-line.js'
import { userFacingStack } from '../../lib/kernel/stack-frames.js'
import { fixture } from '../lib/fixtures.js'

t.test('stacks pair with their event per CPU, missing ones stay null', async (t) => {
  const out: Array<[string, string[] | null]> = []
  const j = new StackJoiner<string>((e, f) => out.push([e, f]))
  j.event(0, 'a0')
  j.event(1, 'b1')
  j.stackStart(0)
  j.frame('f_a')
  j.otherLine()
  j.event(1, 'c1') // b1 never got a stack
  j.stackStart(1)
  j.frame('f_c')
  j.drained()
  t.same(out, [
    ['a0', ['f_a']],
    ['b1', null],
    ['c1', ['f_c']],
  ])
})

t.test('an event waits one poll for its stack, then goes out without one', async (t) => {
  const out: Array<[string, string[] | null]> = []
  const j = new StackJoiner<string>((e, f) => out.push([e, f]))
  j.event(0, 'x')
  j.drained()
  t.same(out, [])
  j.drained()
  t.same(out, [['x', null]])
})

t.test('real 6.18 capture: every event of the synack capture gets its own CPU stack or none', async (t) => {
  const out: Array<{ ev: string; frames: string[] | null }> = []
  const j = new StackJoiner<{ ev: string; cpu: number }>((e, f) => out.push({ ev: `${e.cpu}:${e.ev}`, frames: f }))
  for (const text of fixture('6.18', 'trace_pipe-synack-stack.txt').split('\n')) {
    const l = parseTraceLine(text)
    if (!l) continue
    if (l.type === 'event') j.event(l.cpu, { ev: l.event, cpu: l.cpu })
    else if (l.type === 'stack-start') j.stackStart(l.cpu)
    else if (l.type === 'frame') j.frame(l.frame)
  }
  j.flushAll()
  const withStack = out.filter((o) => o.frames)
  t.ok(withStack.length > 0)
  for (const o of withStack) {
    const kind = o.ev.split(':')[1]
    t.match(o.frames?.[0] ?? '', new RegExp(`trace_event_raw_event_${kind}`), `${o.ev} has its own stack`)
  }
})

t.test('user-facing stacks drop tracing frames and sizes, cap depth', async (t) => {
  const frames = ['trace_event_raw_event_tcp_retransmit_skb+0xce/0x140', '__tcp_retransmit_skb+0x4ea/0x830', 'tcp_retransmit_skb+0x12/0xa0', 'tcp_ack+0xaf7/0x14d0']
  t.same(userFacingStack(frames, 16), ['__tcp_retransmit_skb+0x4ea', 'tcp_retransmit_skb+0x12', 'tcp_ack+0xaf7'])
  t.same(userFacingStack(frames, 2), ['__tcp_retransmit_skb+0x4ea', 'tcp_retransmit_skb+0x12'])
})
