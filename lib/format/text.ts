// Helpers for fixed-width text columns (bcc style: upper-case headers,
// left-aligned, a long value pushes the row rather than being cut).

export function col(value: string | number, width: number): string {
  const s = String(value)
  return s.length >= width ? s : s + ' '.repeat(width - s.length)
}

export function endpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`
}

/** Makes untrusted text (process names) safe for a terminal: control characters escaped. */
export function safeText(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}
