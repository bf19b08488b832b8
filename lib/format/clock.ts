// Event times: ts_ns is CLOCK_MONOTONIC (bpf_ktime_get_ns, tracefs `mono`);
// wall-clock time is derived once from the REALTIME−MONOTONIC offset read at
// start (Node's hrtime is CLOCK_MONOTONIC), so every record is consistent.

export class EventClock {
  readonly #offsetNs: bigint

  constructor() {
    const mono = process.hrtime.bigint()
    this.#offsetNs = BigInt(Date.now()) * 1_000_000n - mono
  }

  #isoMs = -1
  #isoText = ''

  /** UTC ISO-8601 with milliseconds (events of one millisecond share the text). */
  iso(tsNs: bigint): string {
    const ms = this.#ms(tsNs)
    if (ms !== this.#isoMs) {
      this.#isoMs = ms
      this.#isoText = new Date(ms).toISOString()
    }
    return this.#isoText
  }

  /** Local HH:MM:SS for text output. */
  hms(tsNs: bigint): string {
    return localHms(new Date(this.#ms(tsNs)))
  }

  #ms(tsNs: bigint): number {
    return Number((tsNs + this.#offsetNs) / 1_000_000n)
  }
}

export function localHms(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0')
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
}
