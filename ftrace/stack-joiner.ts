// Pairs events with the `<stack trace>` entries the stacktrace option writes
// after them. trace_pipe merges CPUs by time, so a stack can arrive after
// events of other CPUs: pairing is per CPU. Measured on 6.18: some events get
// no stack entry at all, so an event waits at most one extra poll for its stack
// and is then emitted with stack = null — never with another event's stack.

interface Pending<E> {
  event: E
  polls: number
}

export class StackJoiner<E> {
  readonly #pending = new Map<number, Pending<E>>()
  readonly #emit: (event: E, frames: string[] | null) => void
  #collectingCpu: number | null = null
  #frames: string[] = []

  constructor(emit: (event: E, frames: string[] | null) => void) {
    this.#emit = emit
  }

  event(cpu: number, event: E): void {
    this.#finishStack()
    const old = this.#pending.get(cpu)
    if (old) this.#emit(old.event, null)
    this.#pending.set(cpu, { event, polls: 0 })
  }

  stackStart(cpu: number): void {
    this.#finishStack()
    if (this.#pending.has(cpu)) {
      this.#collectingCpu = cpu
      this.#frames = []
    }
  }

  frame(frame: string): void {
    if (this.#collectingCpu !== null) this.#frames.push(frame)
  }

  /** Any other line ends a stack entry. */
  otherLine(): void {
    this.#finishStack()
  }

  /** End of a poll batch: emit events that have waited a full poll for a stack. */
  drained(): void {
    this.#finishStack()
    for (const [cpu, p] of this.#pending) {
      if (p.polls >= 1) {
        this.#pending.delete(cpu)
        this.#emit(p.event, null)
      } else {
        p.polls++
      }
    }
  }

  flushAll(): void {
    this.#finishStack()
    for (const p of this.#pending.values()) this.#emit(p.event, null)
    this.#pending.clear()
  }

  #finishStack(): void {
    const cpu = this.#collectingCpu
    if (cpu === null) return
    this.#collectingCpu = null
    const p = this.#pending.get(cpu)
    if (!p) return
    this.#pending.delete(cpu)
    this.#emit(p.event, this.#frames)
    this.#frames = []
  }
}
