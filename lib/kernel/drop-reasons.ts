// Drop-reason names of the running kernel, never from a table in the source
// (SPEC §2): BTF `enum skb_drop_reason` first, else the __print_symbolic table
// of events/skb/kfree_skb/format. Names lose the SKB_DROP_REASON_ prefix.
// Subsystem reasons (>= 2^16: subsystem << 16 | code) are printed as numbers
// when neither source names them.
import { Btf, VMLINUX_BTF } from './btf.js'

export const SUBSYS_SHIFT = 16

export type ReasonSource = 'btf' | 'tracefs' | 'none'

export class DropReasons {
  readonly source: ReasonSource
  readonly #byCode: Map<number, string>
  readonly #byName: Map<string, number>

  constructor(byCode: Map<number, string>, source: ReasonSource) {
    this.#byCode = byCode
    this.source = source
    this.#byName = new Map([...byCode].map(([code, name]) => [name, code]))
  }

  /** From BTF when readable, else from the tracepoint's symbolic table (value → name). */
  static load(opts: { btf?: Btf; btfPath?: string; symbolic?: ReadonlyMap<string, string> | null } = {}): DropReasons {
    try {
      const fromBtf = reasonsFromBtf(opts.btf ?? Btf.load(opts.btfPath ?? VMLINUX_BTF))
      if (fromBtf) return fromBtf
    } catch {
      // no or unreadable BTF: the format file is the second source
    }
    if (opts.symbolic && opts.symbolic.size > 0) return reasonsFromSymbolic(opts.symbolic)
    return new DropReasons(new Map(), 'none')
  }

  get size(): number {
    return this.#byCode.size
  }

  /** The name for a code, or the code as decimal text when this kernel does not name it. */
  name(code: number): string {
    return this.#byCode.get(code) ?? String(code)
  }

  /** The code of a name (with or without SKB_DROP_REASON_), or a plain number; null if unknown. */
  code(name: string): number | null {
    if (/^\d+$/.test(name)) return Number(name)
    if (/^0x[0-9a-f]+$/i.test(name)) return Number.parseInt(name.slice(2), 16)
    return this.#byName.get(stripPrefix(name.toUpperCase())) ?? null
  }

  names(): string[] {
    return [...this.#byName.keys()]
  }
}

function stripPrefix(name: string): string {
  if (name.startsWith('SKB_DROP_REASON_')) return name.slice('SKB_DROP_REASON_'.length)
  return name
}

/** enum skb_drop_reason → reasons; null when the kernel has no such enum (before 5.17). */
export function reasonsFromBtf(btf: Btf): DropReasons | null {
  const e = btf.findEnum('skb_drop_reason')
  if (!e) return null
  const byCode = new Map<number, string>()
  for (const { name, value } of e.values) {
    // Only real reasons: not SKB_NOT_DROPPED_YET/SKB_CONSUMED, not the SUBSYS_MASK marker.
    if (!name.startsWith('SKB_DROP_REASON_') || value < 0n || value >= 1n << BigInt(SUBSYS_SHIFT)) continue
    if (name.startsWith('SKB_DROP_REASON_SUBSYS_')) continue
    byCode.set(Number(value), stripPrefix(name))
  }
  return new DropReasons(byCode, 'btf')
}

/** A __print_symbolic table (value text → name) → reasons. */
export function reasonsFromSymbolic(table: ReadonlyMap<string, string>): DropReasons {
  const byCode = new Map<number, string>()
  for (const [value, name] of table) {
    const n = /^0x/i.test(value) ? Number.parseInt(value.slice(2), 16) : Number(value)
    if (Number.isInteger(n) && name) byCode.set(n, stripPrefix(name))
  }
  return new DropReasons(byCode, 'tracefs')
}
