// Kernel addresses → `sym+0xoff` from /proc/kallsyms, the way %pS prints them
// (module symbols get ` [module]`), and names → addresses. Loaded once, sorted,
// binary-searched. With kptr_restrict hiding addresses every line reads zero:
// `hidden` says so and nothing is symbolized (never a wrong name).
import { readFileSync } from 'node:fs'
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
  // Compact columns (120k+ symbols): addresses sorted ascending, names, and an
  // index into a small module table (0 = core kernel). ~10 MB instead of ~55.
  readonly #addrs: BigUint64Array
  readonly #names: string[]
  readonly #mods: Uint16Array
  readonly #modNames: Array<string | null>
  #byName: Map<string, bigint | null> | null = null

  private constructor(addrs: bigint[], names: string[], mods: number[], modNames: Array<string | null>, hidden: boolean) {
    const order = Array.from(addrs.keys())
    let sorted = true
    for (let i = 1; i < addrs.length; i++) if ((addrs[i] ?? 0n) < (addrs[i - 1] ?? 0n)) sorted = false
    if (!sorted) order.sort((a, b) => ((addrs[a] ?? 0n) < (addrs[b] ?? 0n) ? -1 : (addrs[a] ?? 0n) > (addrs[b] ?? 0n) ? 1 : 0))
    this.#addrs = BigUint64Array.from(order.map((i) => addrs[i] ?? 0n))
    this.#names = order.map((i) => names[i] ?? '')
    this.#mods = Uint16Array.from(order.map((i) => mods[i] ?? 0))
    this.#modNames = modNames
    this.hidden = hidden
    this.size = addrs.length
  }

  static load(path = KALLSYMS_PATH): Kallsyms {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (err) {
      throw new RuntimeError(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
    }
    return Kallsyms.parse(text)
  }

  /** `address type name [module]` lines. Absolute (a/A) and undefined (U) symbols are no code locations. */
  static parse(text: string): Kallsyms {
    const addrs: bigint[] = []
    const names: string[] = []
    const mods: number[] = []
    const modNames: Array<string | null> = [null]
    const modIndex = new Map<string, number>()
    let nonZero = false
    let pos = 0
    while (pos < text.length) {
      let eol = text.indexOf('\n', pos)
      if (eol < 0) eol = text.length
      const line = text.slice(pos, eol)
      pos = eol + 1
      const sp1 = line.indexOf(' ')
      const sp2 = line.indexOf(' ', sp1 + 1)
      if (sp1 <= 0 || sp2 !== sp1 + 2) continue
      const type = line[sp1 + 1]
      if (type === 'a' || type === 'A' || type === 'U') continue
      let address: bigint
      try {
        address = BigInt('0x' + line.slice(0, sp1))
      } catch {
        continue
      }
      const rest = line.slice(sp2 + 1)
      const tab = rest.indexOf('\t')
      const name = tab < 0 ? rest.trimEnd() : rest.slice(0, tab)
      if (!name) continue
      let mod = 0
      if (tab >= 0) {
        const m = /^\[(.+)\]/.exec(rest.slice(tab + 1))?.[1]
        if (m) {
          mod = modIndex.get(m) ?? modNames.push(m) - 1
          modIndex.set(m, mod)
        }
      }
      if (address !== 0n) nonZero = true
      addrs.push(address)
      names.push(name)
      mods.push(mod)
    }
    return new Kallsyms(addrs, names, mods, modNames, addrs.length > 0 && !nonZero)
  }

  #symbol(i: number): KernelSymbol {
    return { address: this.#addrs[i] ?? 0n, name: this.#names[i] ?? '', module: this.#modNames[this.#mods[i] ?? 0] ?? null }
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
        const n = this.#names[i] ?? ''
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

/** `0x`-less lower-case hex, 16 digits, as raw kernel pointers print. */
export function addressText(addr: bigint): string {
  return addr.toString(16).padStart(16, '0')
}
