// Reads a BPF ring buffer (5.8+) straight from its memory mapping, the way
// libbpf's ring_buffer__consume does, but without one FFI callback and one
// koffi.view per record (~2 µs each): records are DataViews into one mapping.
// Layout (kernel/bpf/ringbuf.c): page 0 holds consumer_pos (ours to write),
// page 1 producer_pos, then the data pages, which the kernel lets a reader map
// twice in a row so that a record wrapping around the end is contiguous. We map
// them once: the second copy counted another ring's worth of RSS (4 MB by
// default), and the few records that wrap are copied together instead. Each
// record starts with an 8-byte header: length (bit 31 busy: still being
// written, bit 30 discarded) and a page offset; records are 8-byte aligned, so
// a header never wraps.
import type { EventBuffer } from './libbpf.js'

const BUSY = 0x80000000
const DISCARD = 0x40000000
const HEADER = 8

/** What the reader needs from the FFI layer (libbpf.ts). */
export interface MappedMemory {
  /** mmap(NULL, len, prot, MAP_SHARED, fd, offset) as an ArrayBuffer over it. */
  map(fd: number, len: number, writable: boolean, offset: number): ArrayBuffer
  unmap(buf: ArrayBuffer): void
}

export class RingReader implements EventBuffer {
  readonly #mem: MappedMemory
  readonly #consumerPage: ArrayBuffer
  readonly #producerAndData: ArrayBuffer
  readonly #consumer: BigUint64Array
  readonly #producer: BigUint64Array
  readonly #headers: Uint32Array
  readonly #mask: number
  readonly #page: number
  readonly #onSample: (dv: DataView) => void
  readonly #budget: number
  /** Where a wrapping record is put together (grown as needed). */
  #joined = new Uint8Array(512)
  #freed = false

  constructor(mem: MappedMemory, fd: number, size: number, page: number, budget: number, onSample: (dv: DataView) => void) {
    this.#mem = mem
    this.#page = page
    this.#mask = size - 1
    this.#budget = budget
    this.#onSample = onSample
    this.#consumerPage = mem.map(fd, page, true, 0)
    try {
      this.#producerAndData = mem.map(fd, page + size, false, page)
    } catch (err) {
      mem.unmap(this.#consumerPage)
      throw err
    }
    this.#consumer = new BigUint64Array(this.#consumerPage, 0, 1)
    this.#producer = new BigUint64Array(this.#producerAndData, 0, 1)
    this.#headers = new Uint32Array(this.#producerAndData)
  }

  consume(): boolean {
    if (this.#freed) return false
    // Positions only grow; as Numbers they stay exact for 2^53 bytes (years of storms).
    let cons = Number(Atomics.load(this.#consumer, 0))
    let taken = 0
    let more = false
    for (;;) {
      const prod = Number(Atomics.load(this.#producer, 0))
      if (cons >= prod) break
      while (cons < prod) {
        const at = this.#page + (cons & this.#mask)
        const len = Atomics.load(this.#headers, at / 4)
        if (len & BUSY) break // the producer is still writing this one
        const payload = len & ~(BUSY | DISCARD)
        if (!(len & DISCARD)) this.#onSample(this.#record(at + HEADER, payload))
        cons += (payload + HEADER + 7) & ~7
        if (++taken >= this.#budget) {
          more = true
          break
        }
      }
      Atomics.store(this.#consumer, 0, BigInt(cons))
      if (more) break
      // A busy record ends this round; records behind it wait for the next poll.
      if (cons < prod) break
    }
    return more
  }

  /** The payload at `from` in the mapping, joined from the data's end and start when it wraps. */
  #record(from: number, len: number): DataView {
    const end = this.#producerAndData.byteLength
    if (from + len <= end) return new DataView(this.#producerAndData, from, len)
    if (this.#joined.length < len) this.#joined = new Uint8Array(Math.max(len, 2 * this.#joined.length))
    const first = end - from
    this.#joined.set(new Uint8Array(this.#producerAndData, from, first), 0)
    this.#joined.set(new Uint8Array(this.#producerAndData, this.#page, len - first), first)
    return new DataView(this.#joined.buffer, 0, len)
  }

  free(): void {
    if (this.#freed) return
    this.#freed = true
    this.#mem.unmap(this.#producerAndData)
    this.#mem.unmap(this.#consumerPage)
  }
}
