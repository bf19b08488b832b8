// What a run needs of its process: arguments, output streams and signals
// (passed in, never imported as globals, so the CLI runs in-process in tests).

export interface ToolProcess {
  argv: readonly string[]
  stdout: NodeJS.WriteStream
  stderr: NodeJS.WriteStream
  on(signal: NodeJS.Signals | 'exit', listener: () => void): unknown
  off(signal: NodeJS.Signals | 'exit', listener: () => void): unknown
}
