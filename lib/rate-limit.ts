// --rate-limit: at most N event lines per second; the rest are counted (per key,
// e.g. TCP state) and reported once a second, so a storm cannot turn the tool
// into the outage. 0 disables it.

export interface SuppressedReport {
  count: number
  total: number
  byKey: Array<{ key: string; count: number }>
}

export class RateLimiter {
  readonly #limit: number
  #windowStart = 0
  #admitted = 0
  #suppressed = new Map<string, number>()
  #suppressedInWindow = 0
  #total = 0

  constructor(limitPerSecond: number) {
    this.#limit = limitPerSecond
  }

  get total(): number {
    return this.#total
  }

  admit(key: string, nowMs = Date.now()): boolean {
    if (this.#limit === 0) return true
    const window = Math.floor(nowMs / 1000)
    if (window !== this.#windowStart) {
      this.#windowStart = window
      this.#admitted = 0
    }
    if (this.#admitted < this.#limit) {
      this.#admitted++
      return true
    }
    this.#suppressed.set(key, (this.#suppressed.get(key) ?? 0) + 1)
    this.#suppressedInWindow++
    this.#total++
    return false
  }

  /** What was suppressed since the last call (null when nothing was). */
  takeReport(): SuppressedReport | null {
    if (this.#suppressedInWindow === 0) return null
    const byKey = [...this.#suppressed].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count)
    const report = { count: this.#suppressedInWindow, total: this.#total, byKey }
    this.#suppressed = new Map()
    this.#suppressedInWindow = 0
    return report
  }
}
