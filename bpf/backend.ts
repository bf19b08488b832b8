// The eBPF backend (libbpf through koffi). Not implemented yet: it reports
// itself unusable with that reason, so `--backend auto` falls back to ftrace
// and `--list-backends` says why.
import type { Backend, BackendReport, Run, RunRequest } from '../lib/backend.js'
import { RuntimeError } from '../lib/errors.js'

const NOT_YET = 'not implemented yet'

export class BpfBackend implements Backend {
  readonly name = 'bpf' as const

  async probe(req: RunRequest): Promise<BackendReport> {
    return {
      backend: 'bpf',
      usable: false,
      reason: NOT_YET,
      permissionDenied: false,
      hookTypes: {
        tracepoint: { usable: false, reason: NOT_YET },
        kprobe: { usable: false, reason: NOT_YET },
      },
      kinds: req.kinds.map(({ kind }) => ({
        kind,
        usable: false,
        reason: NOT_YET,
        hookType: null,
        hook: null,
        fields: [],
        filters: {},
        cannotSee: [],
      })),
    }
  }

  async start(): Promise<Run> {
    throw new RuntimeError(`bpf backend: ${NOT_YET}`)
  }
}
