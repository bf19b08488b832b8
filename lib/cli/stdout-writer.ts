// Buffered stdout: records collect in memory and are written once per poll
// batch (and at exit), so `tool | grep` and `tool > file` see output promptly
// without one write per event. A closed reader (EPIPE) ends the run quietly.

export class StdoutWriter {
  readonly #stream: NodeJS.WriteStream
  #chunks: string[] = []
  #closed = false
  readonly #onClosed: () => void

  constructor(stream: NodeJS.WriteStream, onClosed: () => void) {
    this.#stream = stream
    this.#onClosed = onClosed
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') {
        this.#closed = true
        this.#chunks = []
        this.#onClosed()
      } else {
        throw err
      }
    })
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Bytes written but not yet taken by the reader of stdout. */
  get backlog(): number {
    return this.#stream.writableLength
  }

  write(text: string): void {
    if (!this.#closed) this.#chunks.push(text)
  }

  flush(): void {
    if (this.#closed || this.#chunks.length === 0) return
    const text = this.#chunks.join('')
    this.#chunks = []
    this.#stream.write(text)
  }

  /** Flushes and resolves once the data reached the kernel (or the reader is gone). */
  async end(): Promise<void> {
    this.flush()
    if (this.#closed) return
    await new Promise<void>((resolve) => {
      if (this.#stream.writableNeedDrain) this.#stream.once('drain', () => resolve())
      else this.#stream.write('', () => resolve())
    })
  }
}
