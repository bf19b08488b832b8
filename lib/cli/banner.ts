// The lines a run starts with on stderr (SPEC §2): backend and hooks, the
// kinds that are not traced and why, and what the chosen hooks cannot see.
import type { BackendReport } from '../backend.js'
import type { ToolDefinition } from '../tools/tool.js'

export function bannerLines<O>(tool: ToolDefinition<O>, report: BackendReport): string[] {
  const active = report.kinds.filter((k) => k.usable)
  const hooks = active.map((k) => k.hook).join(', ')
  const lines = [tool.banner ? tool.banner(report.backend, active) : `Tracing ${tool.tracing} via ${report.backend} (${hooks}). Ctrl-C to end.`]
  const missing = report.kinds.filter((k) => !k.usable).map((k) => `${k.kind} (${k.reason})`)
  if (missing.length) lines.push(`Not traced: ${missing.join('; ')}`)
  // A tool's own banner says what its hooks cannot see itself.
  const blind = [...new Set(active.flatMap((k) => k.cannotSee))]
  if (blind.length && !tool.banner) lines.push(`Not seen by ${report.backend}: ${blind.join('; ')}`)
  return lines
}
