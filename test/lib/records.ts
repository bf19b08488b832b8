// JSON Lines output of the tools, parsed.
export type JsonRecord = Record<string, unknown> & { type: string }

export function jsonRecords(out: string): JsonRecord[] {
  return out
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as JsonRecord)
}

/** A tcpretrans JSON record (retransmit, count or summary): the fields the tests read. */
export interface RetransmitRecord {
  type: string
  family: number
  laddr: string
  lport: number
  raddr: string
  rport: number
  state: string
  time: string
  backend: string
  pid?: number
  ts_ns?: number
  netns?: number | null
  lost?: number
  count?: number
  retransmits?: number
  unresolved?: number
  stack?: string[] | null
}

export const retransmitRecords = (out: string) => jsonRecords(out) as unknown as RetransmitRecord[]
