// JSON Lines records. BigInt values (ts_ns) are written as exact integers,
// which JSON.stringify cannot do on its own.

// A marker no real string contains; JSON.stringify escapes the NUL as \u0000.
const BIG = '\u0000big:'
const BIG_ESCAPED = '\\u0000big:'

export function jsonLine(record: Record<string, unknown>): string {
  const text = JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? `${BIG}${v}` : v))
  return (text.includes(BIG_ESCAPED) ? text.replace(/"\\u0000big:(-?\d+)"/g, '$1') : text) + '\n'
}
