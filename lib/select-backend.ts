// Backend selection (SPEC §2): probe the candidates, apply the generic plan
// rules, keep those that can serve every required event kind with every
// requested filter, and pick the one with the widest coverage (bpf before
// ftrace on a tie). When none qualifies the error says, per backend, why —
// exit 3 if any failed for lack of privilege.
import type { Backend, BackendName, BackendReport, Probe, RunRequest } from './backend.js'
import type { KindRequest } from './events.js'
import { PermissionError, UnsupportedError } from './errors.js'
import { applyPlanRules } from './plan-rules.js'

/** A backend's probe for this request, the generic rules applied. */
export interface Probed extends Probe {
  backend: BackendName
}

export function coverage(report: BackendReport): number {
  return report.kinds.filter((k) => k.usable).length
}

async function probe(backend: Backend, run: RunRequest, kinds: readonly KindRequest[]): Promise<Probed> {
  const p = await backend.probe(run, kinds)
  return { backend: backend.name, report: applyPlanRules(p.report, run, kinds), start: p.start }
}

export async function probeAll(backends: readonly Backend[], run: RunRequest, kinds: readonly KindRequest[]): Promise<Probed[]> {
  const out: Probed[] = []
  for (const b of backends) out.push(await probe(b, run, kinds))
  return out
}

/** Usable backends, widest coverage first (bpf before ftrace on a tie). */
export function rank<P extends { report: BackendReport }>(probed: readonly P[]): P[] {
  return probed
    .map((p, i) => ({ p, i }))
    .filter(({ p }) => p.report.usable)
    .sort((a, b) => coverage(b.p.report) - coverage(a.p.report) || a.i - b.i)
    .map(({ p }) => p)
}

/** The preferred backend, and the others to fall back to should it fail to start. */
export interface Selection {
  chosen: Probed
  /** The usable backends after this one, in order of preference (probed on demand). */
  fallbacks: () => Promise<Probed[]>
}

/** Picks the backend; throws (exit 3 or 4) when none is usable. Once a backend
 *  covers every requested kind no later one can rank above it (ties go to the
 *  earlier), so the rest are probed only if a fallback is needed: probing
 *  costs start-up time (ftrace reads format files, /proc tables). */
export async function selectBackend(
  backends: readonly Backend[],
  choice: 'auto' | BackendName,
  run: RunRequest,
  kinds: readonly KindRequest[],
): Promise<Selection> {
  const candidates = choice === 'auto' ? backends : backends.filter((b) => b.name === choice)
  const probed: Probed[] = []
  const probeNext = async () => void probed.push(await probe(candidates[probed.length] as Backend, run, kinds))
  while (probed.length < candidates.length) {
    await probeNext()
    const last = (probed[probed.length - 1] as Probed).report
    if (last.usable && coverage(last) === kinds.length) break
  }
  const best = rank(probed)[0]
  if (best) {
    return {
      chosen: best,
      fallbacks: async () => {
        while (probed.length < candidates.length) await probeNext()
        return rank(probed).filter((p) => p !== best)
      },
    }
  }
  const why = probed.map((p) => `${p.backend}: ${p.report.reason ?? 'unusable'}`).join('; ')
  if (probed.some((p) => p.report.permissionDenied)) throw new PermissionError(`not permitted: ${why}`)
  throw new UnsupportedError(`no backend can run ${run.tool} here: ${why}`)
}
