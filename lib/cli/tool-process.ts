// What a run needs of its process: arguments, output streams and signals
// (passed in, never imported as globals, so the CLI runs in-process in tests).
import type { NetCounters } from '../kernel/net-counters.js'

export interface ToolProcess {
  argv: readonly string[]
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
  on(signal: NodeJS.Signals | 'exit', listener: () => void): unknown
  off(signal: NodeJS.Signals | 'exit', listener: () => void): unknown
  /** The kernel's own counters of a namespace (null: this process's), shown
   *  beside what the tool saw; absent where there are none to read (tests). */
  kernelCounters?(netns: number | null): NetCounters
}
