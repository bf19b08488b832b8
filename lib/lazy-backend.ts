// A backend whose module is imported when it is first probed: a run on bpf
// never loads the ftrace backend's modules (nor --help either one), which is
// a good part of start-up time.
import type { Backend, BackendName, Probe, RunRequest } from './backend.js'
import type { KindRequest } from './events.js'

export class LazyBackend implements Backend {
  readonly name: BackendName
  readonly #load: () => Promise<Backend>
  #backend: Promise<Backend> | null = null

  constructor(name: BackendName, load: () => Promise<Backend>) {
    this.name = name
    this.#load = load
  }

  async probe(run: RunRequest, kinds: readonly KindRequest[]): Promise<Probe> {
    this.#backend ??= this.#load()
    return (await this.#backend).probe(run, kinds)
  }
}
