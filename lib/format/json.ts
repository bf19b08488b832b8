// JSON Lines records. BigInt values (ts_ns) are written as exact integers,
// which JSON.stringify cannot do on its own.

const BIG = '\u0000big:'

export function jsonLine(record: Record<string, unknown>): string {
  const text = JSON.stringify(record, (_k, v: unknown) => (typeof v === 'bigint' ? `${BIG}${v}` : v))
  return (text.includes(BIG) ? text.replace(/"\\u0000big:(-?\d+)"/g, '$1') : text) + '\n'
}
