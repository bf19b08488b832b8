// JSON Lines records, serialized by hand: BigInt values (ts_ns) come out as
// exact integers, which JSON.stringify cannot do, and skipping its replacer
// pass makes one record ~3x cheaper (this runs per event at 100k+/s).

export function jsonLine(record: Record<string, unknown>): string {
  return value(record) + '\n'
}

function value(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v)
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null'
    case 'bigint':
      return v.toString()
    case 'boolean':
      return v ? 'true' : 'false'
    case 'undefined':
      return 'null'
    default:
      break
  }
  if (v === null) return 'null'
  if (Array.isArray(v)) {
    let out = '['
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + value(v[i])
    return out + ']'
  }
  let out = '{'
  let first = true
  for (const key in v as Record<string, unknown>) {
    const item = (v as Record<string, unknown>)[key]
    if (item === undefined) continue // as JSON.stringify: absent keys stay absent
    out += (first ? '' : ',') + quotedKey(key) + value(item)
    first = false
  }
  return out + '}'
}

// Records use a few dozen distinct keys: quote each once.
const keys = new Map<string, string>()
function quotedKey(key: string): string {
  let q = keys.get(key)
  if (q === undefined) {
    q = JSON.stringify(key) + ':'
    if (keys.size < 1000) keys.set(key, q)
  }
  return q
}
