// The sink the backend feeds: events the kernel could not filter are filtered
// here, then the rate limit, then the tool's output; -n ends the run once
// enough events are printed. Output is flushed after each poll batch, and a
// backed-up stdout tells the backend to leave events in the kernel's buffers.
import type { Event, EventSink } from '../events.js'
import type { RateLimiter } from '../rate-limit.js'
import type { ToolOutput } from '../tools/tool.js'
import type { StdoutWriter } from './stdout-writer.js'

/** Past this much unread stdout, backends stop reading the kernel buffers. */
const MAX_STDOUT_BACKLOG = 8 * 1024 * 1024

export interface PipelineParts {
  keep: (e: Event) => boolean
  limiter: RateLimiter
  output: ToolOutput
  writer: StdoutWriter
  /** Stop after this many printed events (null: no limit). */
  maxEvents: number | null
  /** Called once when maxEvents is reached. */
  onLimit: () => void
}

export class EventPipeline implements EventSink {
  readonly #p: PipelineParts
  #seen = 0
  /** No more events are taken (limit reached or the run is ending). */
  done = false

  constructor(parts: PipelineParts) {
    this.#p = parts
  }

  event(e: Event): void {
    const p = this.#p
    if (this.done || !p.keep(e)) return
    // -n counts what is printed (kernel rate limits drop the rest before it gets here).
    if (p.output.perEvent && !p.limiter.admit(p.output.suppressKey(e))) return
    p.output.event(e)
    if (p.maxEvents === null) return
    this.#seen++
    if (this.#seen >= p.maxEvents) {
      this.done = true
      p.onLimit()
    }
  }

  batchEnd(): void {
    this.#p.writer.flush()
  }

  ready(): boolean {
    return this.#p.writer.backlog < MAX_STDOUT_BACKLOG
  }
}
