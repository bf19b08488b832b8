// The lines a run starts with on stderr (SPEC §2): backend and hooks, the
// kinds that are not traced and why, and what the chosen hooks cannot see.
import type { BackendReport, KindPlan } from '../backend.js'
import type { KindRequest, OptionalField } from '../events.js'
import type { ToolDefinition } from '../tools/tool.js'

export function bannerLines<O>(tool: ToolDefinition<O>, report: BackendReport, requests: readonly KindRequest[]): string[] {
  const active = report.kinds.filter((k) => k.usable)
  const hooks = active.map((k) => k.hook).join(', ')
  const lines = [tool.banner ? tool.banner(report.backend, active) : `Tracing ${tool.tracing} via ${report.backend} (${hooks}). Ctrl-C to end.`]
  const missing = report.kinds.filter((k) => !k.usable).map((k) => `${k.kind} (${k.reason})`)
  if (missing.length) lines.push(`Not traced: ${missing.join('; ')}`)
  // A tool's own banner says what its hooks cannot see itself.
  const asked = new Set(requests.flatMap((r) => Object.keys(r.fields) as OptionalField[]))
  const blind = [...new Set(active.flatMap((k) => [...k.cannotSee, ...concerning(k, asked)]))]
  if (blind.length && !tool.banner) lines.push(`Not seen by ${report.backend}: ${blind.join('; ')}`)
  return lines
}

/** What a hook cannot see of the optional fields this run asked for (the rest is --list-backends' to tell). */
function concerning(k: KindPlan, asked: ReadonlySet<OptionalField>): string[] {
  return Object.entries(k.cannotSeeOf ?? {}).filter(([field]) => asked.has(field as OptionalField)).map(([, text]) => text)
}
