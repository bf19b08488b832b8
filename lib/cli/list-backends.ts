// --list-backends: for the tool, each backend usable or not and why; each hook
// type; per event kind the hook, the fields, where each filter is applied and
// what the hook cannot see (SPEC §2). Text, or one JSON object with -j.
import type { BackendReport, HookType, KindPlan } from '../backend.js'
import type { KindRequest } from '../events.js'
import { jsonLine } from '../format/json.js'

export function formatBackendReports(
  tool: string,
  reports: BackendReport[],
  kinds: readonly KindRequest[],
  selected: string | null,
  json: boolean,
): string {
  if (json) {
    return jsonLine({
      type: 'backends',
      tool,
      selected,
      backends: reports.map((r) => ({
        backend: r.backend,
        usable: r.usable,
        reason: r.reason,
        hook_types: r.hookTypes,
        kinds: r.kinds.map((k) => ({
          kind: k.kind,
          required: kinds.find((q) => q.kind === k.kind)?.required ?? false,
          usable: k.usable,
          reason: k.reason,
          hook: k.hook,
          hook_type: k.hookType,
          fields: k.fields,
          filters: k.filters,
          cannot_see: allBlind(k),
        })),
      })),
    })
  }
  const lines: string[] = [`${tool}: backends on this kernel`]
  for (const r of reports) {
    const sel = r.backend === selected ? ' (selected by --backend auto)' : ''
    lines.push(`${r.backend}: ${r.usable ? 'usable' : `not usable: ${r.reason ?? 'unknown'}`}${sel}`)
    for (const ht of ['tracepoint', 'kprobe'] as HookType[]) {
      const s = r.hookTypes[ht]
      lines.push(`  ${r.backend}/${ht}: ${s.usable ? 'usable' : s.reason}`)
    }
    for (const k of r.kinds) {
      const optional = kinds.find((q) => q.kind === k.kind)?.required ? '' : ' (optional)'
      if (!k.usable) {
        lines.push(`  ${k.kind}${optional}: not usable: ${k.reason}`)
        continue
      }
      lines.push(`  ${k.kind}${optional}: ${k.hook}`)
      lines.push(`    fields: ${k.fields.join(' ')}`)
      const filters = Object.entries(k.filters).map(([f, place]) => `${f}=${place === 'none' ? 'not applied' : `in ${place}`}`)
      lines.push(`    filters: ${filters.join(', ') || 'none'}`)
      const blind = allBlind(k)
      if (blind.length) lines.push(`    cannot see: ${blind.join('; ')}`)
    }
  }
  return lines.join('\n') + '\n'
}

/** Everything a hook cannot see, whatever the run asks for. */
function allBlind(k: KindPlan): string[] {
  return [...k.cannotSee, ...Object.values(k.cannotSeeOf ?? {})]
}
