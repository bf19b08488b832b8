// Kernel addresses → `sym+0xoff` from /proc/kallsyms, the way %pS prints them
// (module symbols get ` [module]`), and names → addresses. Loaded once, sorted,
// binary-searched. With kptr_restrict hiding addresses every line reads zero:
// `hidden` says so and nothing is symbolized (never a wrong name).
import { closeSync, openSync, readSync } from 'node:fs'
import { RuntimeError } from '../errors.js'

export const KALLSYMS_PATH = '/proc/kallsyms'

export interface KernelSymbol {
  address: bigint
  name: string
  /** Module name without brackets, or null for the core kernel. */
  module: string | null
}

export class Kallsyms {
  /** True when every address reads 0 (kptr_restrict, or no CAP_SYSLOG). */
  readonly hidden: boolean
  readonly size: number
  // Compact columns (120k+ symbols), sorted by address: the addresses, all
  // names as one latin1 byte run with start offsets, and an index into a small
  // module table (0 = core kernel). ~5 MB, and no copy of the file's text kept
  // alive by substrings (a JS string per name cost ~11 MB).
  readonly #addrs: BigUint64Array
  readonly #names: Buffer
  readonly #nameStart: Uint32Array
  readonly #mods: Uint16Array
  readonly #modNames: Array<string | null>
  #byName: Map<string, bigint | null> | null = null

  private constructor(cols: Columns, hidden: boolean) {
    const { addrs, names, nameStart, mods, modNames, count } = cols
    let sorted = true
    for (let i = 1; i < count && sorted; i++) if ((addrs[i] ?? 0n) < (addrs[i - 1] ?? 0n)) sorted = false
    if (sorted) {
      this.#addrs = addrs.subarray(0, count)
      this.#names = names
      this.#nameStart = nameStart.subarray(0, count + 1)
      this.#mods = mods.subarray(0, count)
    } else {
      const order = Uint32Array.from({ length: count }, (_, i) => i)
      order.sort((a, b) => ((addrs[a] ?? 0n) < (addrs[b] ?? 0n) ? -1 : (addrs[a] ?? 0n) > (addrs[b] ?? 0n) ? 1 : a - b))
      this.#addrs = new BigUint64Array(count)
      this.#mods = new Uint16Array(count)
      this.#nameStart = new Uint32Array(count + 1)
      this.#names = Buffer.alloc(nameStart[count] ?? 0)
      let at = 0
      for (let k = 0; k < count; k++) {
        const i = order[k] ?? 0
        this.#addrs[k] = addrs[i] ?? 0n
        this.#mods[k] = mods[i] ?? 0
        this.#nameStart[k] = at
        at += names.copy(this.#names, at, nameStart[i], nameStart[i + 1])
      }
      this.#nameStart[count] = at
    }
    this.#modNames = modNames
    this.hidden = hidden
    this.size = count
  }

  /** Reads /proc/kallsyms in chunks: the file is ~5 MB of text, and reading it
   *  whole (procfs gives no size, so Node reads pieces and joins them) before
   *  building the columns held ~25 MB at once, the run's peak RSS. */
  static load(path = KALLSYMS_PATH): Kallsyms {
    const columns = new ColumnsBuilder()
    let fd: number
    try {
      fd = openSync(path, 'r')
    } catch (err) {
      throw new RuntimeError(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
    }
    try {
      const chunk = Buffer.allocUnsafe(256 * 1024)
      let filled = 0
      for (;;) {
        const n = readSync(fd, chunk, filled, chunk.length - filled, null)
        filled += n
        // Whole lines now; the rest waits for the next read (a line never fills the chunk).
        const end = n === 0 ? filled : chunk.lastIndexOf(NL, filled - 1) + 1
        columns.addLines(chunk, 0, end)
        chunk.copy(chunk, 0, end, filled)
        filled -= end
        if (n === 0) break
      }
    } catch (err) {
      throw new RuntimeError(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
    } finally {
      closeSync(fd)
    }
    return new Kallsyms(columns.finish(), columns.hidden)
  }

  /** `address type name[\t[module]]` lines. Absolute (a/A) and undefined (U) symbols are no code locations. */
  static parse(input: string | Buffer): Kallsyms {
    const text = typeof input === 'string' ? Buffer.from(input, 'latin1') : input
    const columns = new ColumnsBuilder()
    columns.addLines(text, 0, text.length)
    return new Kallsyms(columns.finish(), columns.hidden)
  }

  #name(i: number): string {
    return this.#names.toString('latin1', this.#nameStart[i], this.#nameStart[i + 1])
  }

  #symbol(i: number): KernelSymbol {
    return { address: this.#addrs[i] ?? 0n, name: this.#name(i), module: this.#modNames[this.#mods[i] ?? 0] ?? null }
  }

  /** The symbol containing addr (the nearest one at or below it), or null. */
  lookup(addr: bigint): { symbol: KernelSymbol; offset: bigint } | null {
    if (this.hidden || this.size === 0) return null
    const a = this.#addrs
    let lo = 0
    let hi = a.length - 1
    if (addr < (a[0] ?? 0n)) return null
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if ((a[mid] ?? 0n) <= addr) lo = mid
      else hi = mid - 1
    }
    const symbol = this.#symbol(lo)
    return { symbol, offset: addr - symbol.address }
  }

  /** `sym+0xoff` (plus ` [module]`), as %pS prints it without the size; null when unknown. */
  symbolize(addr: bigint): string | null {
    const hit = this.lookup(addr)
    if (!hit) return null
    const text = `${hit.symbol.name}+0x${hit.offset.toString(16)}`
    return hit.symbol.module ? `${text} [${hit.symbol.module}]` : text
  }

  /** Address of a symbol by name; null when absent, hidden or ambiguous (same-named statics). */
  address(name: string, module: string | null = null): bigint | null {
    if (this.hidden) return null
    if (!this.#byName) {
      const m = new Map<string, bigint | null>()
      for (let i = 0; i < this.size; i++) {
        const mod = this.#modNames[this.#mods[i] ?? 0]
        const n = this.#name(i)
        const key = mod ? `${n} [${mod}]` : n
        const addr = this.#addrs[i] ?? 0n
        const seen = m.get(key)
        m.set(key, seen === undefined || seen === addr ? addr : null)
      }
      this.#byName = m
    }
    return this.#byName.get(module ? `${name} [${module}]` : name) ?? null
  }
}

interface Columns {
  addrs: BigUint64Array
  names: Buffer
  nameStart: Uint32Array
  mods: Uint16Array
  modNames: Array<string | null>
  count: number
}

/** Collects the columns line by line, growing them as symbols come. They
 *  start large enough for a distribution kernel (~200k symbols, ~5 MB of
 *  names): blocks this big are fresh mappings whose pages count only once
 *  written, so the unused tail costs nothing, and growing by copies would
 *  hold two sizes at once. */
class ColumnsBuilder implements Columns {
  addrs = new BigUint64Array(1 << 18)
  names = Buffer.allocUnsafe(8 << 20)
  nameStart = new Uint32Array((1 << 18) + 1)
  mods = new Uint16Array(1 << 18)
  modNames: Array<string | null> = [null]
  count = 0
  readonly #modIndex = new Map<string, number>()
  #namesAt = 0
  #nonZero = false

  /** Parses the lines in text[from, to). */
  addLines(text: Buffer, from: number, to: number): void {
    let pos = from
    while (pos < to) {
      let eol = text.indexOf(NL, pos)
      if (eol < 0 || eol > to) eol = to
      const lineStart = pos
      pos = eol + 1
      const sp1 = text.indexOf(SPACE, lineStart)
      if (sp1 <= lineStart || sp1 > eol - 3 || text[sp1 + 2] !== SPACE) continue
      const type = text[sp1 + 1]
      if (type === 0x61 || type === 0x41 || type === 0x55) continue // a A U
      const address = hexAt(text, lineStart, sp1)
      if (address === null) continue
      const nameFrom = sp1 + 3
      // Searched by hand: indexOf would run past the line to the next tab (modules come last).
      let tab = -1
      for (let i = nameFrom; i < eol; i++) {
        if (text[i] === TAB) {
          tab = i
          break
        }
      }
      let nameTo = tab < 0 ? eol : tab
      while (nameTo > nameFrom && (text[nameTo - 1] === SPACE || text[nameTo - 1] === CR)) nameTo--
      if (nameTo <= nameFrom) continue
      let mod = 0
      if (tab >= 0 && text[tab + 1] === OPEN) {
        const close = text.indexOf(CLOSE, tab + 2)
        if (close > tab + 2 && close < eol) {
          const m = text.toString('latin1', tab + 2, close)
          mod = this.#modIndex.get(m) ?? this.modNames.push(m) - 1
          this.#modIndex.set(m, mod)
        }
      }
      if (address !== 0n) this.#nonZero = true
      this.#reserve(nameTo - nameFrom)
      const i = this.count++
      this.addrs[i] = address
      this.mods[i] = mod
      this.nameStart[i] = this.#namesAt
      this.#namesAt += text.copy(this.names, this.#namesAt, nameFrom, nameTo)
    }
  }

  /** Room for one more symbol with a name of `nameBytes`. */
  #reserve(nameBytes: number): void {
    if (this.count + 1 >= this.addrs.length) {
      const n = this.addrs.length * 2
      const addrs = new BigUint64Array(n)
      addrs.set(this.addrs)
      this.addrs = addrs
      const mods = new Uint16Array(n)
      mods.set(this.mods)
      this.mods = mods
      const starts = new Uint32Array(n + 1)
      starts.set(this.nameStart)
      this.nameStart = starts
    }
    if (this.#namesAt + nameBytes > this.names.length) {
      const names = Buffer.allocUnsafe(Math.max(this.names.length * 2, this.#namesAt + nameBytes))
      this.names.copy(names, 0, 0, this.#namesAt)
      this.names = names
    }
  }

  /** True when every address read 0 (kptr_restrict, or no CAP_SYSLOG). */
  get hidden(): boolean {
    return this.count > 0 && !this.#nonZero
  }

  /** The columns, names trimmed to an exact-size copy; no more lines after this. */
  finish(): Columns {
    this.nameStart[this.count] = this.#namesAt
    this.names = Buffer.from(this.names.subarray(0, this.#namesAt))
    return this
  }
}

const NL = 0x0a
const CR = 0x0d
const TAB = 0x09
const SPACE = 0x20
const OPEN = 0x5b
const CLOSE = 0x5d

/** The hex number in bytes [from, to) (1–16 digits), or null. */
function hexAt(b: Buffer, from: number, to: number): bigint | null {
  if (to - from < 1 || to - from > 16) return null
  let hi = 0
  let lo = 0
  for (let i = from; i < to; i++) {
    const c = b[i] ?? 0
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1
    if (d < 0) return null
    // 16 digits = hi (8) and lo (8); shift the top digit of lo into hi.
    hi = hi * 16 + Math.floor(lo / 0x10000000)
    lo = (lo % 0x10000000) * 16 + d
  }
  return (BigInt(hi) << 32n) | BigInt(lo)
}

/** `0x`-less lower-case hex, 16 digits, as raw kernel pointers print. */
export function addressText(addr: bigint): string {
  return addr.toString(16).padStart(16, '0')
}
