// Backend selection (SPEC §2): probe the candidates, keep those that can serve
// every required event kind with every requested filter, and pick the one with
// the widest coverage (bpf before ftrace on a tie). When none qualifies the
// error says, per backend, why — exit 3 if any failed for lack of privilege.
import type { Backend, BackendName, BackendReport, RunRequest } from './backend.js'
import { PermissionError, UnsupportedError } from './errors.js'
import { FILTER_OPTION, requestedFilters } from './filters.js'

/** Adds filter problems to each kind plan: a requested filter the hook cannot apply makes it unusable. */
export function applyFilterRules(report: BackendReport, req: RunRequest): BackendReport {
  const wanted = requestedFilters(req.filters)
  for (const plan of report.kinds) {
    if (!plan.usable) continue
    for (const f of wanted) {
      const place = plan.filters[f]
      if (place === 'kernel' || place === 'user') continue
      plan.usable = false
      plan.reason = `${FILTER_OPTION[f]} cannot be applied by ${report.backend} (${plan.hook ?? 'no hook'})`
      break
    }
  }
  const missing = report.kinds.filter((p) => !p.usable && req.kinds.some((k) => k.required && k.kind === p.kind))
  if (report.usable && missing.length > 0) {
    report.usable = false
    report.reason = missing.map((p) => `${p.kind}: ${p.reason}`).join('; ')
  }
  return report
}

export function coverage(report: BackendReport): number {
  return report.kinds.filter((k) => k.usable).length
}

/** One backend's report for this request, filter rules applied. */
async function probe(backend: Backend, req: RunRequest): Promise<BackendReport> {
  return applyFilterRules(await backend.probe(req), req)
}

export async function probeAll(backends: readonly Backend[], req: RunRequest): Promise<BackendReport[]> {
  const reports: BackendReport[] = []
  for (const b of backends) reports.push(await probe(b, req))
  return reports
}

/** Usable backends, widest coverage first (bpf before ftrace on a tie). */
export function rank(reports: readonly BackendReport[]): BackendReport[] {
  return reports
    .map((r, i) => ({ r, i }))
    .filter(({ r }) => r.usable)
    .sort((a, b) => coverage(b.r) - coverage(a.r) || a.i - b.i)
    .map(({ r }) => r)
}

/** The preferred backend, and the others to fall back to should it fail to start. */
export interface Selection {
  backend: Backend
  report: BackendReport
  /** The usable backends after this one, in order of preference (probed on demand). */
  fallbacks: () => Promise<Array<{ backend: Backend; report: BackendReport }>>
}

/** Picks the backend; throws (exit 3 or 4) when none is usable. Once a backend
 *  covers every requested kind no later one can rank above it (ties go to the
 *  earlier), so the rest are probed only if a fallback is needed: probing
 *  costs start-up time (ftrace reads format files, /proc tables). */
export async function selectBackend(backends: readonly Backend[], choice: 'auto' | BackendName, req: RunRequest, tool: string): Promise<Selection> {
  const candidates = choice === 'auto' ? backends : backends.filter((b) => b.name === choice)
  const reports: BackendReport[] = []
  const probeNext = async () => void reports.push(await probe(candidates[reports.length] as Backend, req))
  while (reports.length < candidates.length) {
    await probeNext()
    const last = reports[reports.length - 1] as BackendReport
    if (last.usable && coverage(last) === req.kinds.length) break
  }
  const byReport = (r: BackendReport) => ({ backend: candidates[reports.indexOf(r)] as Backend, report: r })
  const best = rank(reports)[0]
  if (best) {
    return {
      ...byReport(best),
      fallbacks: async () => {
        while (reports.length < candidates.length) await probeNext()
        return rank(reports)
          .filter((r) => r !== best)
          .map(byReport)
      },
    }
  }
  const why = reports.map((r) => `${r.backend}: ${r.reason ?? 'unusable'}`).join('; ')
  if (reports.some((r) => r.permissionDenied)) {
    throw new PermissionError(`not permitted: ${why}`)
  }
  throw new UnsupportedError(`no backend can run ${tool} here: ${why}`)
}
