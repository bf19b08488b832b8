// One BPF object for one run: open, choose programs, write the filter
// configuration, size the ring buffer, load, attach, poll the ring buffer,
// read counters — and release everything (links, ring buffer, object) in
// close(), synchronously, on every exit path. The kernel drops programs and
// links when the process dies (they are not pinned), so a killed run leaves
// nothing behind.
import { libbpf, LibbpfError, type EventBuffer, type Libbpf, type Pointer } from './libbpf.js'

export interface ObjectSpec {
  path: string
  /** Programs to load and attach; every other program in the object is not loaded. */
  programs: string[]
  /** Of `programs`, the standbys (their recursion misses lose nothing). */
  standby: string[]
  /** All program names in the object (to switch off the unused ones). */
  allPrograms: string[]
  /** Writes the object's .rodata before load. `buffer` is what `events` is
   *  made into below; the programs' use_perf_buffer must say the same. */
  rodata: (target: Uint8Array, buffer: 'ring' | 'perf') => void
  ringBytes: number
  /** Kernels before 5.8 have no BPF ring buffer: records go through a perf buffer. */
  buffer: 'ring' | 'perf'
}

const POLL_MS = 10

export class LoadedObject {
  readonly #lib: Libbpf
  #obj: Pointer | null = null
  #links: Pointer[] = []
  /** Attached programs whose recursion misses are lost events (standbys aside). */
  #primaries: Pointer[] = []
  #buffer: EventBuffer | null = null
  #bufferKind: 'ring' | 'perf' = 'ring'
  #ringBytes = 0
  #perfLost = 0
  #timer: NodeJS.Timeout | null = null
  #closed = false

  constructor() {
    this.#lib = libbpf()
  }

  get lib(): Libbpf {
    return this.#lib
  }

  open(spec: ObjectSpec): void {
    // The verifier gives up with EAGAIN when a signal arrives while it works
    // (e.g. a profiler's SIGPROF); a fresh attempt succeeds.
    for (let attempt = 1; ; attempt++) {
      try {
        this.#open(spec)
        return
      } catch (err) {
        this.#release()
        if (!(err instanceof LibbpfError) || err.errno !== 11 || attempt >= 5) throw err
      }
    }
  }

  #open(spec: ObjectSpec): void {
    const L = this.#lib
    this.#obj = L.openFile(spec.path)
    for (const name of spec.allPrograms) L.setAutoload(L.findProgram(this.#obj, name), spec.programs.includes(name))
    spec.rodata(L.initialValue(L.findMap(this.#obj, '.rodata')), spec.buffer)
    const events = L.findMap(this.#obj, 'events')
    if (spec.buffer === 'perf') L.makePerfEventArray(events)
    else L.setMaxEntries(events, ringSize(spec.ringBytes))
    this.#bufferKind = spec.buffer
    this.#ringBytes = spec.ringBytes
    L.load(this.#obj)
    L.trimHeap()
    for (const name of spec.programs) {
      const prog = L.findProgram(this.#obj, name)
      if (!spec.standby.includes(name)) this.#primaries.push(prog)
      this.#links.push(L.attach(prog, name))
    }
  }

  mapFd(name: string): number {
    if (this.#obj === null) throw new Error('object not open')
    return this.#lib.mapFd(this.#lib.findMap(this.#obj, name))
  }

  /** Starts polling the ring buffer every ~10 ms; onBatchEnd after each poll. */
  poll(onRecord: (dv: DataView) => void, onBatchEnd: () => void, onError: (err: Error) => void, ready: () => boolean): void {
    // Perf buffers are per CPU: the same total memory as the ring, in pages per CPU.
    const perCpuPages = ringSize(this.#ringBytes / Math.max(1, this.#lib.possibleCpus())) / 4096
    this.#buffer = this.#lib.openEventBuffer(this.#bufferKind, this.mapFd('events'), perCpuPages, onRecord, (n) => (this.#perfLost += n))
    const tick = () => {
      if (this.#closed || !this.#buffer) return
      let more = false
      try {
        // A backed-up stdout leaves records in the kernel buffer; what overflows it is counted lost.
        if (ready()) more = this.#buffer.consume()
        onBatchEnd()
      } catch (err) {
        onError(err instanceof Error ? err : new Error(String(err)))
        return
      }
      // Stopped at the budget: go on right after the output was flushed.
      this.#timer = setTimeout(tick, more ? 0 : POLL_MS)
    }
    this.#timer = setTimeout(tick, 0)
  }

  /** Consumes whatever is in the ring buffer now (before closing). */
  drain(): void {
    // A few budgets at most: the run is ending, the producer may still be going.
    for (let i = 0; i < 8 && this.#buffer && !this.#closed && this.#buffer.consume(); i++);
  }

  /** Records the perf buffer reported lost (the ring buffer's are counted by the programs). */
  get perfLost(): number {
    return this.#perfLost
  }

  /** Events the kernel skipped a primary program for (re-entry on the same
   *  CPU); a standby emitted those it covered (COUNTER_COVERED). */
  recursionMisses(): number {
    if (this.#closed) return 0
    return this.#primaries.reduce((n, p) => n + this.#lib.recursionMisses(p), 0)
  }

  /** Sum over CPUs of a per-CPU u64 array map entry. */
  perCpuSum(map: string, index: number): number {
    const ncpu = this.#lib.possibleCpus()
    const key = new Uint8Array(4)
    new DataView(key.buffer).setUint32(0, index, true)
    const value = new Uint8Array(8 * ncpu)
    if (!this.#lib.lookup(this.mapFd(map), key, value)) return 0
    const dv = new DataView(value.buffer)
    let sum = 0n
    for (let i = 0; i < ncpu; i++) sum += dv.getBigUint64(8 * i, true)
    return Number(sum)
  }

  /** Every (key, value) of a hash map. */
  entries(map: string, keySize: number, valueSize: number): Array<[Uint8Array, Uint8Array]> {
    const fd = this.mapFd(map)
    const out: Array<[Uint8Array, Uint8Array]> = []
    let key: Uint8Array | null = null
    for (let i = 0; i < 1_000_000; i++) {
      const next: Uint8Array = new Uint8Array(keySize)
      if (!this.#lib.nextKey(fd, key, next)) break
      const value = new Uint8Array(valueSize)
      if (this.#lib.lookup(fd, next, value)) out.push([next, value])
      key = next
    }
    return out
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#release()
  }

  #release(): void {
    for (const link of this.#links.reverse()) this.#lib.destroyLink(link)
    this.#links = []
    this.#buffer?.free()
    this.#buffer = null
    if (this.#obj !== null) this.#lib.close(this.#obj)
    this.#obj = null
    this.#primaries = []
  }
}

/** Ring buffers are a power of two of pages. */
export function ringSize(bytes: number): number {
  let size = 4096
  while (size < bytes && size < 1 << 30) size *= 2
  return size
}
