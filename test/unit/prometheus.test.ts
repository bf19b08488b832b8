import t from 'tap'
import { RuntimeError, UsageError } from '../../lib/errors.js'
import { CONTENT_TYPE, dropFamilies, exposition, MetricsServer, negotiateFormat, OPENMETRICS_TYPE, parseListenAddress } from '../../lib/prometheus.js'

t.test('listen address: a bare port binds loopback only', async (t) => {
  t.same(parseListenAddress('9464'), { host: '127.0.0.1', port: 9464 })
  t.same(parseListenAddress(':9464'), { host: '127.0.0.1', port: 9464 })
  t.same(parseListenAddress('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464 })
  t.same(parseListenAddress('[::1]:9464'), { host: '::1', port: 9464 })
  t.same(parseListenAddress('localhost:80'), { host: 'localhost', port: 80 })
  for (const bad of ['', 'x', '1.2.3.4:', '1.2.3.4:0', '1.2.3.4:70000', '::1:9464', '[nope]:1', 'host:port']) {
    t.throws(() => parseListenAddress(bad), UsageError, JSON.stringify(bad))
  }
})

const SAMPLE = dropFamilies(
  [
    { location: 'tcp_v4_rcv+0x1a0', reason: 'NO_SOCKET', count: 51 },
    { location: 'nft_do_chain+0x47f [nf_tables]', reason: 'NETFILTER_DROP', count: 2000 },
    { location: 'a"b\\c', reason: null, count: 1 },
  ],
  7,
)
const SAMPLES = [
  'netdrop_drops_total{location="nft_do_chain+0x47f [nf_tables]",reason="NETFILTER_DROP"} 2000',
  'netdrop_drops_total{location="tcp_v4_rcv+0x1a0",reason="NO_SOCKET"} 51',
  'netdrop_drops_total{location="a\\"b\\\\c",reason=""} 1',
]

t.test('OpenMetrics: families named without _total, escaped labels, # EOF', async (t) => {
  t.equal(
    exposition(SAMPLE, 'openmetrics'),
    [
      '# TYPE netdrop_drops counter',
      '# HELP netdrop_drops Packets the kernel dropped (skb:kfree_skb), by location and reason.',
      ...SAMPLES,
      '# TYPE netdrop_lost_events counter',
      '# HELP netdrop_lost_events Trace events the kernel buffers lost; drops in them are not counted above.',
      'netdrop_lost_events_total 7',
      '# EOF',
      '',
    ].join('\n'),
  )
})

t.test('Prometheus text 0.0.4: HELP and TYPE name the samples (what promtool checks), no # EOF', async (t) => {
  t.equal(
    exposition(SAMPLE, 'prometheus'),
    [
      '# HELP netdrop_drops_total Packets the kernel dropped (skb:kfree_skb), by location and reason.',
      '# TYPE netdrop_drops_total counter',
      ...SAMPLES,
      '# HELP netdrop_lost_events_total Trace events the kernel buffers lost; drops in them are not counted above.',
      '# TYPE netdrop_lost_events_total counter',
      'netdrop_lost_events_total 7',
      '',
    ].join('\n'),
  )
})

t.test('negotiation: OpenMetrics only when the Accept header asks for it', async (t) => {
  // Prometheus 2.42's own Accept header, then plain clients.
  t.equal(negotiateFormat('application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'), 'openmetrics')
  t.equal(negotiateFormat('text/plain;version=0.0.4;q=0.5,*/*;q=0.1'), 'prometheus')
  t.equal(negotiateFormat('*/*'), 'prometheus')
  t.equal(negotiateFormat(undefined), 'prometheus')
})

t.test('serves /metrics over HTTP; other paths 404; address in use is a RuntimeError', async (t) => {
  let n = 0
  const server = new MetricsServer({ host: '127.0.0.1', port: 0 }, () => dropFamilies([{ location: 'x+0x1', reason: 'R', count: ++n }], 0))
  await server.listen()
  t.teardown(() => server.close())
  const port = server.port
  t.ok(port)
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { Accept: 'application/openmetrics-text; version=1.0.0' } })
  t.equal(res.status, 200)
  t.equal(res.headers.get('content-type'), OPENMETRICS_TYPE)
  t.match(await res.text(), /^netdrop_drops_total\{location="x\+0x1",reason="R"\} 1$/m)
  const plain = await fetch(`http://127.0.0.1:${port}/metrics`)
  t.equal(plain.headers.get('content-type'), CONTENT_TYPE.prometheus, 'no Accept: text format 0.0.4')
  t.match(await plain.text(), /"R"\} 2$/m, 'rendered per scrape')
  t.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404)

  const taken = new MetricsServer({ host: '127.0.0.1', port: port ?? 0 }, () => [])
  await t.rejects(taken.listen(), new RuntimeError(`--prometheus 127.0.0.1:${port}: address already in use`))
  taken.close()
})

t.test('an address that is not on this host', async (t) => {
  const s = new MetricsServer({ host: '192.0.2.1', port: 9 }, () => [])
  await t.rejects(s.listen(), /--prometheus 192\.0\.2\.1:9: address not available on this host/)
})
