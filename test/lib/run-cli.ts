// Running the real tools (bin/*.js, which run the bundle in dist/bundle/) as child processes.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** The tools run dist/bundle/, not the sources: a test of a stale bundle
 *  would test old code without a word. `npm run build` makes it. */
function requireFreshBundle(): void {
  const bundle = `${ROOT}dist/bundle/main.js`
  let built: number
  try {
    built = statSync(bundle).mtimeMs
  } catch {
    throw new Error(`${bundle} missing: run \`npm run build\``)
  }
  for (const dir of ['lib', 'bpf', 'ftrace']) {
    for (const file of readdirSync(`${ROOT}${dir}`, { recursive: true, encoding: 'utf8' })) {
      if (file.endsWith('.ts') && statSync(`${ROOT}${dir}/${file}`).mtimeMs > built) {
        throw new Error(`${dir}/${file} is newer than dist/bundle/: run \`npm run build\``)
      }
    }
  }
}
requireFreshBundle()

export function binPath(tool: string): string {
  return `${ROOT}bin/${tool}.js`
}

export interface CliResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs a tool to completion (bounded by timeoutMs). */
export function runCli(tool: string, args: string[], timeoutMs = 20000): CliResult {
  const r = spawnSync(process.execPath, [binPath(tool), ...args], { encoding: 'utf8', timeout: timeoutMs })
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
}

export interface LiveTool {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves once the banner (attached) is on stderr. */
  attached: Promise<void>
  exited: Promise<CliResult>
}

/** Starts a tool in the background; `attached` resolves when it has started tracing.
 *  `keepLine` bounds what is kept of stdout (long soaks print gigabytes): only
 *  the lines it returns true for, each seen once. */
export function startCli(tool: string, args: string[], env: NodeJS.ProcessEnv = process.env, keepLine?: (line: string) => boolean): LiveTool {
  const child = spawn(process.execPath, [binPath(tool), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
  let out = ''
  let err = ''
  let partial = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    if (!keepLine) {
      out += d
      return
    }
    const lines = (partial + d).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) if (keepLine(line)) out += `${line}\n`
  })
  let onAttached: () => void = () => {}
  let onFailed: (e: Error) => void = () => {}
  const attached = new Promise<void>((resolve, reject) => {
    onAttached = resolve
    onFailed = reject
  })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d
    if (/Ctrl-C to (end|stop)/.test(err)) onAttached()
  })
  const exited = new Promise<CliResult>((resolve) => {
    child.on('exit', (code, signal) => {
      onFailed(new Error(`${tool} exited before attaching (code ${code}, signal ${signal}): ${err}`))
      // let stdout/stderr drain
      setImmediate(() => resolve({ code, signal, stdout: out, stderr: err }))
    })
  })
  return { child, stdout: () => out, stderr: () => err, attached, exited }
}
