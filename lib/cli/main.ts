// The one exit point: runs a tool, turns any error into one clear stderr line
// (`tool: error: …`) and its exit code; stack traces only with --debug.
import { ExitCode, ToolError } from '../errors.js'
import { NetCounters } from '../kernel/net-counters.js'
import { loadTool, type ToolName } from '../tools/index.js'
import { runTool, type ToolProcess } from './run-tool.js'
import { mark } from './startup-marks.js'

export async function main(name: ToolName, proc: NodeJS.Process): Promise<void> {
  mark('modules')
  const debug = proc.argv.includes('--debug')
  const toolProc: ToolProcess = {
    argv: proc.argv.slice(2),
    stdout: proc.stdout,
    stderr: proc.stderr,
    on: (s, l) => proc.on(s, l),
    off: (s, l) => proc.off(s, l),
    kernelCounters: (netns) => new NetCounters(netns),
  }
  let code: number
  try {
    const tool = await loadTool(name)
    mark('tool')
    code = await runTool<unknown>(tool, toolProc)
  } catch (err) {
    code = reportError(name, err, debug, proc.stderr)
  }
  proc.exitCode = code
  // Nothing should keep the loop alive after this; make sure of it.
  setTimeout(() => proc.exit(code), 3000).unref()
}

export function reportError(name: string, err: unknown, debug: boolean, stderr: NodeJS.WritableStream): number {
  if (err instanceof ToolError) {
    stderr.write(`${name}: error: ${oneLine(err.message)}\n`)
    if (debug && err.stack) stderr.write(err.stack + '\n')
    return err.exitCode
  }
  const message = err instanceof Error ? err.message : String(err)
  stderr.write(`${name}: error: ${oneLine(message)}${debug ? '' : ' (--debug shows details)'}\n`)
  if (debug && err instanceof Error && err.stack) stderr.write(err.stack + '\n')
  return ExitCode.runtime
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ')
}
