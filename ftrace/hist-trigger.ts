// Hist triggers (CONFIG_HIST_TRIGGERS, 4.7+): the kernel counts an event per
// key inside the run's instance, so counting needs no trace line per event and
// is exact at any rate. The event itself stays soft-disabled (`enable` shows
// `0*`): nothing reaches the ring buffer. Counts are cumulative; a reader keeps
// what it saw and reports differences, so no increment falls between a read and
// a reset. `Dropped` counts events the kernel could not add because the table
// was full: those are lost, and said so.
import { existsSync } from 'node:fs'

export interface HistEntry {
  /** The key as printed: the identity of the entry between reads. */
  id: string
  keys: Map<string, string>
  hitcount: number
}

export interface HistTable {
  entries: HistEntry[]
  hits: number
  dropped: number
}

export function histTriggersAvailable(tracefs: string, system: string, event: string): boolean {
  return existsSync(`${tracefs}/events/${system}/${event}/hist`)
}

/** `hist:keys=…:vals=hitcount:size=N[ if FILTER]` (the same text, prefixed with `!`, removes it). */
export function histTrigger(keys: string[], size: number, filter = ''): string {
  return `hist:keys=${keys.join(',')}:vals=hitcount:size=${size}${filter ? ` if ${filter}` : ''}`
}

// `{ location: [ffffffff818ac491] tcp_v4_rcv+0x81/0xee0     , protocol:       2048, reason:          2 } hitcount:          5`
const ENTRY_RE = /^\{ (.*) \} hitcount:\s*(\d+)/
const KEY_RE = /(\w+):\s*(.*?)\s*(?:,\s*(?=\w+:)|$)/g
const TOTAL_RE = /^\s+(Hits|Dropped):\s*(\d+)/

/** Parses the `hist` file of one trigger; lines it does not know are skipped. */
export function parseHist(text: string): HistTable {
  const table: HistTable = { entries: [], hits: 0, dropped: 0 }
  for (const line of text.split('\n')) {
    const entry = ENTRY_RE.exec(line)
    if (entry) {
      const inner = entry[1] ?? ''
      const keys = new Map<string, string>()
      for (const m of inner.matchAll(KEY_RE)) keys.set(m[1] ?? '', m[2] ?? '')
      table.entries.push({ id: inner, keys, hitcount: Number(entry[2]) })
      continue
    }
    const total = TOTAL_RE.exec(line)
    if (total?.[1] === 'Hits') table.hits = Number(total[2])
    else if (total?.[1] === 'Dropped') table.dropped = Number(total[2])
  }
  return table
}

/** Differences between successive reads of one cumulative table. */
export class HistDeltas {
  #seen = new Map<string, number>()

  /** Entries whose count grew since the last read, with the growth. */
  next(table: HistTable): Array<{ entry: HistEntry; delta: number }> {
    const out: Array<{ entry: HistEntry; delta: number }> = []
    for (const entry of table.entries) {
      const delta = entry.hitcount - (this.#seen.get(entry.id) ?? 0)
      this.#seen.set(entry.id, entry.hitcount)
      if (delta > 0) out.push({ entry, delta })
    }
    return out
  }
}
