// Parser for tracefs event format files (events/<sys>/<event>/format): the
// fields with their offsets and the `print fmt`, including the value tables of
// __print_symbolic(). Layout differences between kernels (no `family` on 5.10,
// `err` since 6.17, …) are learned from here, never from a version string.
import { RuntimeError } from '../lib/errors.js'

export interface FormatField {
  /** C type as printed, e.g. `__u8` or `const void *`. */
  type: string
  name: string
  /** Number of elements for array fields (`saddr[4]` → 4), else null. */
  arrayLength: number | null
  offset: number
  size: number
  signed: boolean
  /** common_* header fields shared by every event. */
  common: boolean
}

export interface EventFormat {
  name: string
  id: number
  fields: FormatField[]
  printFmt: string
  /** For each field printed with __print_symbolic(REC->field, …): value → name. */
  symbolic: Map<string, Map<string, string>>
}

export function parseFormat(text: string, source = 'format file'): EventFormat {
  const name = /^name:\s*(\S+)/m.exec(text)?.[1]
  const id = /^ID:\s*(\d+)/m.exec(text)?.[1]
  if (!name || !id) throw new RuntimeError(`malformed ${source}: no name or ID line`)
  const fields: FormatField[] = []
  const fieldRe = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/gm
  for (const m of text.matchAll(fieldRe)) {
    const decl = (m[1] ?? '').trim()
    const dm = /^(.*?)([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[(\d*)\])?$/.exec(decl)
    if (!dm) throw new RuntimeError(`malformed ${source}: cannot read field declaration "${decl}"`)
    const fieldName = dm[2] ?? ''
    fields.push({
      type: (dm[1] ?? '').trim(),
      name: fieldName,
      arrayLength: dm[3] ? Number(dm[3]) : null,
      offset: Number(m[2]),
      size: Number(m[3]),
      signed: m[4] === '1',
      common: fieldName.startsWith('common_'),
    })
  }
  if (fields.length === 0) throw new RuntimeError(`malformed ${source}: no fields`)
  const printFmt = /^print fmt:\s*(.*)$/m.exec(text)?.[1] ?? ''
  return { name, id: Number(id), fields, printFmt, symbolic: parseSymbolicTables(printFmt) }
}

export function hasField(format: EventFormat, name: string): boolean {
  return format.fields.some((f) => f.name === name)
}

/** Reads every `__print_symbolic(REC->x, { v, "name" }, …)` of a print fmt. */
export function parseSymbolicTables(printFmt: string): Map<string, Map<string, string>> {
  const tables = new Map<string, Map<string, string>>()
  const marker = '__print_symbolic('
  let at = printFmt.indexOf(marker)
  while (at >= 0) {
    const end = matchingParen(printFmt, at + marker.length - 1)
    const inner = printFmt.slice(at + marker.length, end)
    const field = /^\s*REC->(\w+)/.exec(inner)?.[1]
    if (field) {
      const table = new Map<string, string>()
      for (const m of inner.matchAll(/\{\s*([^,{}]+?)\s*,\s*"([^"]*)"\s*\}/g)) {
        table.set((m[1] ?? '').trim(), m[2] ?? '')
      }
      tables.set(field, table)
    }
    at = printFmt.indexOf(marker, end)
  }
  return tables
}

function matchingParen(s: string, open: number): number {
  let depth = 0
  let inString = false
  for (let i = open; i < s.length; i++) {
    const c = s[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '(') depth++
    else if (c === ')' && --depth === 0) return i
  }
  return s.length
}
