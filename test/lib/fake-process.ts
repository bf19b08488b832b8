// A ToolProcess for running a tool in-process: argv, stdout and stderr that
// collect what is written, and signal listeners the test can fire.
import { Writable } from 'node:stream'
import type { ToolProcess } from '../../lib/cli/tool-process.js'

type Signal = NodeJS.Signals | 'exit'

/** A stream that keeps everything written to it (the reader is never slow). */
class Collector extends Writable {
  text = ''

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    this.text += chunk.toString('utf8')
    done()
  }
}

export interface FakeProcess extends ToolProcess {
  /** Everything written to stdout so far. */
  out(): string
  /** Everything written to stderr so far. */
  err(): string
  /** Calls the listeners of a signal, as the process would. */
  emit(signal: Signal): void
  /** How many listeners each signal has now. */
  listening(): Partial<Record<Signal, number>>
}

export function fakeProcess(argv: string[]): FakeProcess {
  const stdout = new Collector()
  const stderr = new Collector()
  const listeners = new Map<Signal, Array<() => void>>()
  return {
    argv,
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    on(signal, listener) {
      listeners.set(signal, [...(listeners.get(signal) ?? []), listener])
    },
    off(signal, listener) {
      const list = listeners.get(signal) ?? []
      const i = list.indexOf(listener)
      if (i >= 0) list.splice(i, 1)
    },
    out: () => stdout.text,
    err: () => stderr.text,
    emit(signal) {
      for (const l of [...(listeners.get(signal) ?? [])]) l()
    },
    listening() {
      const out: Partial<Record<Signal, number>> = {}
      for (const [s, list] of listeners) if (list.length) out[s] = list.length
      return out
    },
  }
}
