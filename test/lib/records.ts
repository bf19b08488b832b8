// JSON Lines output of the tools, parsed.
export type JsonRecord = Record<string, unknown> & { type: string }

export function jsonRecords(out: string): JsonRecord[] {
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as JsonRecord)
}
