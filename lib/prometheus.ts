// dropwatch --prometheus HOST:PORT: metrics at /metrics for scraping (SPEC §6),
// OpenMetrics or the Prometheus text format as the scraper's Accept header asks.
// Counters only, cumulative since start: netdrop_drops_total by location and
// reason, netdrop_lost_events_total. A bare port binds loopback
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

/** One counter family: its name without `_total`, and its samples. */
export interface CounterFamily {
  name: string
  help: string
  samples: Array<{ labels: Record<string, string>; value: number }>
}

export type ExpositionFormat = 'openmetrics' | 'prometheus'

export const CONTENT_TYPE: Record<ExpositionFormat, string> = {
  openmetrics: OPENMETRICS_TYPE,
  prometheus: 'text/plain; version=0.0.4; charset=utf-8',
}

/** As the official client libraries negotiate: OpenMetrics when the scraper's
 *  Accept header asks for it, the Prometheus text format 0.0.4 otherwise. */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  return /application\/openmetrics-text/i.test(accept ?? '') ? 'openmetrics' : 'prometheus'
}

function labelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** dropwatch's families: drops by location and reason (most first), and lost events. */
export function dropFamilies(drops: Iterable<DropCounter>, lost: number): CounterFamily[] {
  const rows = [...drops].sort((a, b) => b.count - a.count || String(a.location).localeCompare(String(b.location)))
  return [
    {
      name: 'netdrop_drops',
      help: 'Packets the kernel dropped (skb:kfree_skb), by location and reason.',
      samples: rows.map((d) => ({ labels: { location: d.location ?? '', reason: d.reason ?? '' }, value: d.count })),
    },
    {
      name: 'netdrop_lost_events',
      help: 'Trace events the kernel buffers lost; drops in them are not counted above.',
      samples: [{ labels: {}, value: lost }],
    },
  ]
}

/** The exposition text. OpenMetrics 1.0 names a counter family without `_total`
 *  and ends with `# EOF`; the text format 0.0.4 names it as its samples. */
export function exposition(families: readonly CounterFamily[], format: ExpositionFormat): string {
  const lines: string[] = []
  for (const f of families) {
    const sample = `${f.name}_total`
    if (format === 'openmetrics') lines.push(`# TYPE ${f.name} counter`, `# HELP ${f.name} ${f.help}`)
    else lines.push(`# HELP ${sample} ${f.help}`, `# TYPE ${sample} counter`)
    for (const s of f.samples) {
      const labels = Object.entries(s.labels).map(([k, v]) => `${k}="${labelValue(v)}"`)
      lines.push(`${sample}${labels.length ? `{${labels.join(',')}}` : ''} ${s.value}`)
    }
  }
  if (format === 'openmetrics') lines.push('# EOF')
  return lines.join('\n') + '\n'
}

export class MetricsServer {
  readonly #addr: ListenAddress
  readonly #families: () => CounterFamily[]
  #server: Server | null = null

  constructor(addr: ListenAddress, families: () => CounterFamily[]) {
    this.#addr = addr
    this.#families = families
  }

  /** Binds; address in use or not bindable → RuntimeError (exit 1). */
  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0]
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD' }).end()
      } else if (path === '/metrics') {
        const format = negotiateFormat(req.headers.accept)
        const body = exposition(this.#families(), format)
        res.writeHead(200, { 'Content-Type': CONTENT_TYPE[format], 'Content-Length': Buffer.byteLength(body), Vary: 'Accept' })
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
