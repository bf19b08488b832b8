// A report every `seconds`, due at start + n·seconds rather than `seconds`
// after the last one ran: a busy event loop (a storm on trace_pipe) delays
// reports a little but never makes them drift (600 reports in 600 s, not 590).

export class IntervalTimer {
  #timer: NodeJS.Timeout | null = null
  #stopped = false

  /** `tick` returns false to stop the series. */
  constructor(seconds: number, tick: () => boolean) {
    const startedAt = Date.now()
    let n = 0
    const run = () => {
      n++
      if (!tick() || this.#stopped) return
      this.#timer = setTimeout(run, Math.max(0, startedAt + (n + 1) * seconds * 1000 - Date.now()))
    }
    this.#timer = setTimeout(run, seconds * 1000)
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
  }
}
