// The options every tool shares (SPEC §3), their validation, and the parsed
// form the rest of the code uses. Bad values are UsageErrors (exit 2).
import { readlinkSync, statSync } from 'node:fs'
import type { Options } from 'yargs'
import type { BackendName, HookChoice } from '../backend.js'
import { UsageError } from '../errors.js'
import type { Filters } from '../filters.js'
import type { Family } from '../events.js'
import { parseInetAddr } from '../kernel/inet-addr.js'
import { asList, integerIn, positiveNumber } from './option-spec.js'

export interface CommonOptions {
  backend: 'auto' | BackendName
  hookType: HookChoice
  listBackends: boolean
  durationS: number | null
  maxEvents: number | null
  json: boolean
  filters: Filters
  quiet: boolean
  debug: boolean
  rateLimit: number
  bufferKb: number
  allowSysctl: boolean
}

export const DEFAULT_RATE_LIMIT = 10000
export const DEFAULT_BUFFER_KB = 4096

export function commonOptionDefs(perEventTool: boolean): Record<string, Options> {
  const defs: Record<string, Options> = {
    backend: { alias: 'B', type: 'string', choices: ['auto', 'bpf', 'ftrace'], default: 'auto', describe: 'backend to use', group: 'Backend:' },
    'hook-type': { type: 'string', choices: ['auto', 'tracepoint', 'kprobe'], default: 'auto', describe: 'force the hook type', group: 'Backend:' },
    'list-backends': { type: 'boolean', describe: 'report what each backend can do on this kernel and exit', group: 'Backend:' },
    'buffer-kb': { type: 'string', default: DEFAULT_BUFFER_KB, describe: 'kernel buffer in KiB (ftrace: per CPU; bpf: the shared ring buffer)', requiresArg: true, group: 'Backend:' },
    duration: { alias: 'd', type: 'string', describe: 'stop after SECONDS', requiresArg: true, group: 'Run:' },
    'max-events': { alias: 'n', type: 'string', describe: 'stop after N events', requiresArg: true, group: 'Run:' },
    json: { alias: 'j', type: 'boolean', describe: 'JSON Lines on stdout, one object per line', group: 'Output:' },
    quiet: { alias: 'q', type: 'boolean', describe: 'no banner', group: 'Output:' },
    debug: { type: 'boolean', describe: 'diagnostics and internal stack traces on stderr', group: 'Output:' },
    '4': { type: 'boolean', describe: 'IPv4 only (wire family)', group: 'Filters:' },
    '6': { type: 'boolean', describe: 'IPv6 only (wire family)', group: 'Filters:' },
    port: { type: 'string', array: false, describe: 'local or remote port PORT (repeatable)', requiresArg: true, group: 'Filters:' },
    addr: { type: 'string', array: false, describe: 'local or remote address IP (repeatable)', requiresArg: true, group: 'Filters:' },
    netns: { type: 'string', describe: 'network namespace: inode, /proc/PID/ns/net or /run/netns/NAME', requiresArg: true, group: 'Filters:' },
    'allow-sysctl': { type: 'boolean', describe: 'may set kernel.kptr_restrict=1 for the run (restored at exit) so sockets and symbols can be resolved', group: 'Backend:' },
  }
  if (perEventTool) {
    defs['rate-limit'] = { type: 'string', default: DEFAULT_RATE_LIMIT, describe: 'at most N event lines per second (0: no limit)', requiresArg: true, group: 'Output:' }
  }
  return defs
}

/** inode | /proc/PID/ns/net | /run/netns/NAME | NAME → the netns inode number. */
export function resolveNetns(spec: string): number {
  if (/^\d+$/.test(spec)) return Number(spec)
  const path = spec.includes('/') ? spec : `/run/netns/${spec}`
  let st
  let own
  try {
    st = statSync(path)
    own = statSync('/proc/self/ns/net')
  } catch (err) {
    throw new UsageError(`--netns: cannot open ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`)
  }
  // Namespace files all live on the nsfs device; a /proc link also names its type.
  let isNet = st.dev === own.dev
  try {
    isNet = isNet && /^net:\[\d+\]$/.test(readlinkSync(path))
  } catch {
    // bind mounts under /run/netns are not links; the device check decides
  }
  if (!isNet) throw new UsageError(`--netns: ${path} is not a network namespace`)
  return st.ino
}

export function parseCommonOptions(a: Record<string, unknown>, perEventTool: boolean): CommonOptions {
  if (a['4'] && a['6']) throw new UsageError('-4 and -6 exclude each other')
  const family: Family | null = a['4'] ? 4 : a['6'] ? 6 : null
  const ports = asList(a.port).map((p) => integerIn('--port', p, 1, 65535))
  const addrs = asList(a.addr).map((s) => {
    const addr = parseInetAddr(String(s))
    if (!addr) throw new UsageError(`--addr: "${String(s)}" is not an IPv4 or IPv6 address`)
    if (family !== null && addr.family !== family) throw new UsageError(`--addr ${addr.text} is not an IPv${family} address (-${family})`)
    return addr.text
  })
  const netns = a.netns === undefined ? null : resolveNetns(String(a.netns))
  const maxEvents = a['max-events'] === undefined ? null : integerIn('--max-events', a['max-events'], 1, Number.MAX_SAFE_INTEGER)
  const rateLimit = perEventTool ? integerIn('--rate-limit', a['rate-limit'], 0, 100_000_000) : 0
  return {
    backend: a.backend as CommonOptions['backend'],
    hookType: a['hook-type'] as HookChoice,
    listBackends: Boolean(a['list-backends']),
    durationS: a.duration === undefined ? null : positiveNumber('--duration', a.duration),
    maxEvents,
    json: Boolean(a.json),
    filters: { family, ports, addrs, netns, reasons: [] },
    quiet: Boolean(a.quiet),
    debug: Boolean(a.debug),
    rateLimit,
    bufferKb: integerIn('--buffer-kb', a['buffer-kb'], 64, 1024 * 1024),
    allowSysctl: Boolean(a['allow-sysctl']),
  }
}
