// dropwatch --prometheus HOST:PORT: OpenMetrics text at /metrics for scraping
// (SPEC §6). Counters only, cumulative since start: netdrop_drops_total by
// location and reason, netdrop_lost_events_total. A bare port binds loopback
// only: exposing kernel addresses to the network must be asked for.
import { createServer, type Server } from 'node:http'
import { isIP } from 'node:net'
import { errnoCode, RuntimeError, UsageError } from './errors.js'

export const OPENMETRICS_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8'

export interface ListenAddress {
  host: string
  port: number
}

/** `PORT`, `:PORT`, `HOST:PORT` or `[IPv6]:PORT`. */
export function parseListenAddress(spec: string): ListenAddress {
  const bad = (why: string) => new UsageError(`--prometheus: "${spec}" ${why} (want PORT, HOST:PORT or [IPv6]:PORT)`)
  let host = '127.0.0.1'
  let portText = spec
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(spec)
  if (v6) {
    host = v6[1] ?? ''
    portText = v6[2] ?? ''
    if (isIP(host) !== 6) throw bad('has no valid IPv6 address')
  } else if (spec.includes(':')) {
    const at = spec.lastIndexOf(':')
    if (spec.indexOf(':') !== at) throw bad('needs brackets around an IPv6 address')
    if (at > 0) host = spec.slice(0, at)
    portText = spec.slice(at + 1)
  }
  if (!/^\d+$/.test(portText)) throw bad('has no port number')
  const port = Number(portText)
  if (port < 1 || port > 65535) throw bad('has a port outside 1-65535')
  if (!host) throw bad('has an empty host')
  return { host, port }
}

export interface DropCounter {
  location: string | null
  reason: string | null
  count: number
}

function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** The exposition text: one counter family per metric, `# EOF` last (OpenMetrics 1.0). */
export function openMetricsText(drops: Iterable<DropCounter>, lost: number): string {
  const lines = [
    '# TYPE netdrop_drops counter',
    '# HELP netdrop_drops Packets the kernel dropped (skb:kfree_skb), by location and reason.',
  ]
  const rows = [...drops].sort((a, b) => b.count - a.count || String(a.location).localeCompare(String(b.location)))
  for (const d of rows) {
    lines.push(`netdrop_drops_total{location="${labelValue(d.location ?? '')}",reason="${labelValue(d.reason ?? '')}"} ${d.count}`)
  }
  lines.push(
    '# TYPE netdrop_lost_events counter',
    '# HELP netdrop_lost_events Trace events the kernel buffers lost; drops in them are not counted above.',
    `netdrop_lost_events_total ${lost}`,
    '# EOF',
  )
  return lines.join('\n') + '\n'
}

export class MetricsServer {
  readonly #addr: ListenAddress
  readonly #render: () => string
  #server: Server | null = null

  constructor(addr: ListenAddress, render: () => string) {
    this.#addr = addr
    this.#render = render
  }

  /** Binds; address in use or not bindable → RuntimeError (exit 1). */
  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end()
      } else if (path === '/metrics') {
        const body = this.#render()
        res.writeHead(200, { 'Content-Type': OPENMETRICS_TYPE, 'Content-Length': Buffer.byteLength(body) })
        res.end(req.method === 'HEAD' ? undefined : body)
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('see /metrics\n')
      }
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => {
        const code = errnoCode(err)
        const where = `${this.#addr.host.includes(':') ? `[${this.#addr.host}]` : this.#addr.host}:${this.#addr.port}`
        const why = code === 'EADDRINUSE' ? 'address already in use' : code === 'EADDRNOTAVAIL' ? 'address not available on this host' : (err as Error).message
        reject(new RuntimeError(`--prometheus ${where}: ${why}`, { cause: err }))
      })
      server.listen(this.#addr.port, this.#addr.host, () => resolve())
    })
    this.#server = server
  }

  /** The bound port (useful with port 0 in tests). */
  get port(): number | null {
    const a = this.#server?.address()
    return a && typeof a === 'object' ? a.port : null
  }

  close(): void {
    const s = this.#server
    this.#server = null
    if (!s) return
    s.close()
    s.closeAllConnections()
  }
}
