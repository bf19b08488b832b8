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
  readonly #addrs: BigUint64Array
  readonly #syms: KernelSymbol[]
  #byName: Map<string, bigint | null> | null = null

  private constructor(syms: KernelSymbol[], hidden: boolean) {
    syms.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
    this.#syms = syms
    this.#addrs = BigUint64Array.from(syms.map((s) => s.address))
    this.hidden = hidden
    this.size = syms.length
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
    const syms: KernelSymbol[] = []
    let nonZero = false
    for (const line of text.split('\n')) {
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
      const mod = tab < 0 ? null : /^\[(.+)\]/.exec(rest.slice(tab + 1))?.[1] ?? null
      if (!name) continue
      if (address !== 0n) nonZero = true
      syms.push({ address, name, module: mod })
    }
    return new Kallsyms(syms, syms.length > 0 && !nonZero)
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
    const symbol = this.#syms[lo]
    return symbol ? { symbol, offset: addr - symbol.address } : null
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
      for (const s of this.#syms) {
        const key = s.module ? `${s.name} [${s.module}]` : s.name
        const seen = m.get(key)
        m.set(key, seen === undefined || seen === s.address ? s.address : null)
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
