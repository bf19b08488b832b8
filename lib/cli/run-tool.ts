// Runs one tool: arguments → typed options and requests → --list-backends, or
// select a backend and trace with it (falling back to the next backend when
// one fails to start) → exit code. Errors are thrown as ToolErrors.
import type { Backend } from '../backend.js'
import { BackendStartError } from '../errors.js'
import { LazyBackend } from '../lazy-backend.js'
import { runTag } from '../run-tag.js'
import { probeAll, rank, selectBackend, type Probed } from '../select-backend.js'
import { relaxKptrRestrict, restoreDeadRuns } from '../sysctl-guard.js'
import type { ToolDefinition } from '../tools/tool.js'
import { formatBackendReports } from './list-backends.js'
import { parseArgs } from './parse-args.js'
import { toolSetup, type ToolSetup } from './tool-setup.js'
import type { ToolProcess } from './tool-process.js'
import { TraceSession } from './trace-session.js'
import { mark } from './startup-marks.js'

export type { ToolProcess } from './tool-process.js'

export function defaultBackends(): Backend[] {
  return [
    new LazyBackend('bpf', async () => new (await import('../../bpf/backend.js')).BpfBackend()),
    new LazyBackend('ftrace', async () => new (await import('../../ftrace/backend.js')).FtraceBackend()),
  ]
}

/** Runs the tool and resolves with the exit code. */
export async function runTool<O>(tool: ToolDefinition<O>, proc: ToolProcess, backends = defaultBackends()): Promise<number> {
  const parsed = await parseArgs(tool, proc.argv)
  if (parsed.kind === 'printed') {
    proc.stdout.write(parsed.text + '\n')
    return 0
  }
  const setup = toolSetup(tool, parsed.args)
  mark('args')
  if (setup.common.listBackends) return listBackends(tool, proc, setup, backends)
  // A dead run's sysctl change is undone whatever this run does.
  for (const line of restoreDeadRuns()) proc.stderr.write(`${tool.name}: ${line}\n`)
  const sysctl = setup.common.allowSysctl ? relaxKptrRestrict(runTag(tool.name)) : null
  if (sysctl) {
    if (!setup.common.quiet) proc.stderr.write(`${tool.name}: ${sysctl.description}\n`)
    proc.on('exit', sysctl.restore)
  }
  try {
    return await traceWithFallback(tool, proc, setup, backends)
  } finally {
    sysctl?.restore()
    if (sysctl) proc.off('exit', sysctl.restore)
  }
}

async function listBackends<O>(tool: ToolDefinition<O>, proc: ToolProcess, setup: ToolSetup<O>, backends: Backend[]): Promise<number> {
  const kinds = tool.requests(setup.options, true)
  const choice = setup.common.backend
  const probed = await probeAll(choice === 'auto' ? backends : backends.filter((b) => b.name === choice), setup.run, kinds)
  const selected = rank(probed)[0]?.backend ?? null
  proc.stdout.write(formatBackendReports(tool.name, probed.map((p) => p.report), kinds, selected, setup.common.json))
  return 0
}

/** With --backend auto, a backend that fails to load or attach hands over to the next one. */
async function traceWithFallback<O>(tool: ToolDefinition<O>, proc: ToolProcess, setup: ToolSetup<O>, backends: Backend[]): Promise<number> {
  const selection = await selectBackend(backends, setup.common.backend, setup.run, setup.kinds)
  mark('probed')
  let current = selection.chosen
  let fallbacks: Probed[] | null = null
  for (;;) {
    try {
      return await new TraceSession(tool, proc, setup, current).trace()
    } catch (err) {
      if (!(err instanceof BackendStartError) || err.exitCode === 3) throw err
      fallbacks ??= await selection.fallbacks()
      const next = fallbacks.shift()
      if (!next) throw err
      proc.stderr.write(`${tool.name}: ${err.message}; falling back to ${next.backend}\n`)
      current = next
    }
  }
}
