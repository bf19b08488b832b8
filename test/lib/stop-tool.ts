// Ending a background tool and waiting for it (bounded).
import type { CliResult, LiveTool } from './run-cli.js'
import { sleep } from './netns.js'

export async function stopTool(tool: LiveTool, signal: NodeJS.Signals = 'SIGINT'): Promise<CliResult> {
  tool.child.kill(signal)
  const r = await Promise.race([tool.exited, sleep(10000).then(() => null)])
  if (!r) {
    tool.child.kill('SIGKILL')
    throw new Error('tool did not stop within 10 s')
  }
  return r
}
