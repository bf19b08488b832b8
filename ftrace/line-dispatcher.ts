// Turns trace_pipe lines into Events: each event line goes to the route of
// its event name (a tracepoint hook's run or the kprobes), `<stack trace>`
// entries are paired with the event they follow (per CPU), and PIDs become
// process ids as on bpf. Stacks are kept only for kinds that asked for them,
// sampled at their --stack-rate.
import type { Event, EventSink, StackRequest } from '../lib/events.js'
import { tgidOfTid } from '../lib/kernel/comm.js'
import { userFacingStack } from '../lib/kernel/stack-frames.js'
import { RateLimiter } from '../lib/rate-limit.js'
import type { TraceEventLine } from './hooks/hook.js'
import { StackJoiner } from './stack-joiner.js'
import { parseTraceLine } from './trace-line.js'

export interface Route {
  /** null: the line is not for this run (or was counted by the hook). */
  decode(line: TraceEventLine & { event: string }): Event | null
  stack: StackRequest | null
}

interface Routed {
  event: Event
  route: Route
  stacks: RateLimiter | null
}

export class LineDispatcher {
  readonly #routes: Map<string, { route: Route; stacks: RateLimiter | null }>
  readonly #sink: EventSink
  readonly #wantStack: boolean
  readonly #joiner: StackJoiner<Routed>
  /** Event lines of no route, and lines that could not be parsed. */
  malformed = 0

  constructor(routes: Map<string, Route>, sink: EventSink) {
    this.#routes = new Map([...routes].map(([name, route]) => [name, { route, stacks: route.stack ? new RateLimiter(route.stack.rate) : null }]))
    this.#sink = sink
    this.#wantStack = [...routes.values()].some((r) => r.stack !== null)
    this.#joiner = new StackJoiner<Routed>((r, frames) => this.#emit(r, frames))
  }

  lines(texts: readonly string[]): void {
    for (const text of texts) {
      const line = parseTraceLine(text)
      if (line === null) {
        if (text.trim() !== '') this.malformed++
      } else if (line.type === 'frame') {
        if (this.#wantStack) this.#joiner.frame(line.frame)
      } else if (line.type === 'stack-start') {
        if (this.#wantStack) this.#joiner.stackStart(line.cpu)
      } else {
        if (this.#wantStack) this.#joiner.otherLine()
        if (line.type === 'event') this.#event(line) // 'lost' notices are counted from per_cpu stats
      }
    }
  }

  #event(line: TraceEventLine & { event: string; cpu: number }): void {
    const entry = this.#routes.get(line.event)
    if (!entry) {
      this.malformed++
      return
    }
    const event = entry.route.decode(line)
    if (event === null) return
    const routed = { event, route: entry.route, stacks: entry.stacks }
    if (this.#wantStack) this.#joiner.event(line.cpu, routed)
    else this.#emit(routed, null)
  }

  #emit({ event, route, stacks }: Routed, frames: string[] | null): void {
    // Trace lines carry thread ids; PID columns show the process, as on bpf.
    if ('pid' in event) event.pid = tgidOfTid(event.pid)
    if (frames && route.stack && 'stack' in event) {
      event.stack = stacks && !stacks.admit('stack') ? 'not-sampled' : userFacingStack(frames, route.stack.depth)
    }
    this.#sink.event(event)
  }

  /** After each read of the pipe: events still waiting for a stack wait one poll at most. */
  drained(): void {
    if (this.#wantStack) this.#joiner.drained()
  }

  /** At the end: whatever waits for a stack goes out without one. */
  flush(): void {
    this.#joiner.flushAll()
  }
}
