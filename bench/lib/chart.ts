// A hand-written SVG chart: one horizontal bar panel per metric, one bar per subject.
export interface Bar {
  label: string
  value: number | null
  text: string
  color: string
}
export interface Panel {
  title: string
  bars: Bar[]
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export function svgChart(title: string, subtitle: string, panels: Panel[]): string {
  const W = 1000
  const labelW = 330
  const barMax = W - labelW - 170
  const rowH = 18
  let y = 58
  const parts: string[] = []
  for (const p of panels) {
    parts.push(`<text x="10" y="${y}" font-weight="bold" font-size="14">${esc(p.title)}</text>`)
    y += 10
    const max = Math.max(...p.bars.map((b) => b.value ?? 0), 1e-9)
    for (const b of p.bars) {
      y += rowH
      parts.push(`<text x="${labelW - 6}" y="${y - 4}" text-anchor="end" font-size="12">${esc(b.label)}</text>`)
      if (b.value !== null && b.value > 0) {
        const w = Math.max(1, (b.value / max) * barMax)
        parts.push(`<rect x="${labelW}" y="${y - rowH + 4}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${b.color}"/>`)
        parts.push(`<text x="${(labelW + w + 5).toFixed(1)}" y="${y - 4}" font-size="12">${esc(b.text)}</text>`)
      } else {
        parts.push(`<text x="${labelW + 5}" y="${y - 4}" font-size="12" fill="#888">${esc(b.text)}</text>`)
      }
    }
    y += 26
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="22" font-size="17" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="40" font-size="12" fill="#444">${esc(subtitle)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n')
}
