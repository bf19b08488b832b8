// A backend whose module is imported when it is first probed: a run on bpf
// never loads the ftrace backend's modules (nor --help either one), which is
// a good part of start-up time.
import type { Backend, BackendName, BackendReport, Run, RunRequest, StartContext } from './backend.js'

export class LazyBackend implements Backend {
  readonly name: BackendName
  readonly #load: () => Promise<Backend>
  #backend: Promise<Backend> | null = null

  constructor(name: BackendName, load: () => Promise<Backend>) {
    this.name = name
    this.#load = load
  }

  async probe(req: RunRequest): Promise<BackendReport> {
    return (await this.#loaded()).probe(req)
  }

  async start(req: RunRequest, report: BackendReport, ctx: StartContext): Promise<Run> {
    return (await this.#loaded()).start(req, report, ctx)
  }

  #loaded(): Promise<Backend> {
    this.#backend ??= this.#load()
    return this.#backend
  }
}
