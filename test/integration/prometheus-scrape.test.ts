// dropwatch --prometheus as scrapers see it (SPEC §6): a real Prometheus server
// (Debian's 2.42, which asks for OpenMetrics) scrapes the endpoint, and its
// query API must give the drops the nft counter counted; promtool checks the
// Prometheus text format that scrapers without OpenMetrics get.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { primeNeighbours, STORM_PORT, STORM_RULES, stormCounters } from '../lib/dropwatch-storm.js'
import { sleep } from '../lib/netns.js'
import { startCli } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { requireRoot, testHosts } from '../lib/test-hosts.js'
import { udpStorm } from '../lib/udp-storm.js'

requireRoot('network namespaces, BPF')
if (spawnSync('sh', ['-c', 'command -v prometheus && command -v promtool']).status !== 0) {
  t.plan(0, "needs prometheus and promtool (test/setup.sh installs Debian's prometheus package)")
  process.exit(0)
}

const pair = testHosts('pm', 48, STORM_RULES)
t.before(() => primeNeighbours(pair))

interface QueryResult {
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> }
}

async function query(port: number, promql: string): Promise<QueryResult['data']['result']> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(promql)}`)
    return res.ok ? ((await res.json()) as QueryResult).data.result : []
  } catch {
    return [] // not up yet
  }
}

t.test('promtool passes the text format; Prometheus scrapes the drops nft counted', async (t) => {
  const port = 20000 + ((process.pid + 7) % 20000)
  const promPort = port + 1
  const tool = startCli('dropwatch', ['-i', '1', '--prometheus', String(port)])
  await tool.attached
  t.teardown(() => {
    if (tool.child.exitCode === null) tool.child.kill('SIGKILL')
  })

  const text = await fetch(`http://127.0.0.1:${port}/metrics`)
  t.match(text.headers.get('content-type'), /^text\/plain; version=0\.0\.4/, 'no Accept header: the text format')
  const lint = spawnSync('promtool', ['check', 'metrics'], { input: await text.text(), encoding: 'utf8' })
  t.equal(lint.status, 0, 'promtool check metrics exits 0')
  t.equal(`${lint.stdout}${lint.stderr}`.trim(), '', 'and reports nothing')

  const dir = mkdtempSync(join(tmpdir(), 'ndt-prom-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const config = join(dir, 'prometheus.yml')
  writeFileSync(config, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: dropwatch\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`)
  const prom = spawn('prometheus', [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' })
  t.teardown(() => {
    if (prom.exitCode === null) prom.kill('SIGKILL')
  })

  const before = stormCounters(pair)
  const storm = udpStorm(pair, pair.v4.receiver, STORM_PORT, 3000, 100, 5)
  await sleep(1500)
  const truth = stormCounters(pair).v4 - before.v4
  t.ok(truth > 0, `nft dropped ${truth} (${storm.sent} sent)`)
  // The storm's series: the NETFILTER_DROP location with the most drops, once a scrape after the storm is in.
  let scraped = 0
  for (let i = 0; i < 60 && scraped !== truth; i++) {
    await sleep(500)
    const series = await query(promPort, 'netdrop_drops_total{job="dropwatch",reason="NETFILTER_DROP"}')
    scraped = Math.max(0, ...series.map((s) => Number(s.value[1])))
  }
  t.equal(scraped, truth, `Prometheus's netdrop_drops_total at the storm's location ${scraped} == nft counter ${truth}`)
  const up = await query(promPort, 'up{job="dropwatch"}')
  t.equal(up[0]?.value[1], '1', 'the target is up')
  const lost = await query(promPort, 'netdrop_lost_events_total{job="dropwatch"}')
  t.equal(lost[0]?.value[1], '0', 'netdrop_lost_events_total 0')
  const r = await stopTool(tool)
  t.equal(r.code, 0)
})
