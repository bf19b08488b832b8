// tcpdrop's summary beside the kernel's TCP drop counters (issue 13.2), on the
// receive-buffer-full scenario (test/lib/datapath-drops.ts): a segment that
// does not fit is dropped with reason PROTO_MEM at the places the kernel
// counts TCPRcvQDrop (receive queue) or TCPOFODrop (out-of-order queue), so
// those records equal the two counters, read by the test itself. The same
// drop also moves RcvPruned (the pruning that failed first), and the
// out-of-window segments the sender keeps sending (TCP_INVALID_SEQUENCE) move
// no counter: the summary lists counters, it does not claim an identity.
import { statSync } from 'node:fs'
import t from 'tap'
import { dataPathDrops } from '../lib/datapath-drops.js'
import { delta, sleep } from '../lib/netns.js'
import { jsonRecords } from '../lib/records.js'
import { startCli } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { requireRoot, testHosts } from '../lib/test-hosts.js'

requireRoot('network namespaces, BPF')

const pair = testHosts('dk', 51)
const PORT = 9121

t.test('receive buffer full: TCPRcvQDrop in the summary == the counter read by the test; PROTO_MEM records == TCPRcvQDrop + TCPOFODrop', async (t) => {
  const args = ['--no-stack', '--rate-limit', '0', '-B', 'bpf', '--netns', `/run/netns/${pair.receiver}`, '--port', String(PORT)]
  const json = startCli('tcpdrop', ['-j', ...args])
  const text = startCli('tcpdrop', args)
  await Promise.all([json.attached, text.attached])
  const before = pair.counters(pair.receiver)
  const skDrops = await dataPathDrops(pair, 'rcvbuf-full', pair.v4.receiver, PORT)
  await sleep(300)
  const after = pair.counters(pair.receiver)
  const truth = delta(before, after, 'TcpExtTCPRcvQDrop')
  const ofo = delta(before, after, 'TcpExtTCPOFODrop')
  const [rj, rt] = await Promise.all([stopTool(json), stopTool(text)])
  const recs = jsonRecords(rj.stdout)
  const summary = recs.find((x) => x.type === 'summary')
  const counters = (summary?.kernel_counters ?? {}) as Record<string, number>
  t.ok(truth > 0, `the kernel counted ${truth} TCPRcvQDrop (sk_drops ${skDrops})`)
  t.equal(counters.TcpExtTCPRcvQDrop, truth, 'summary: the same delta')
  t.equal(summary?.kernel_netns, statSync(`/run/netns/${pair.receiver}`).ino, 'of the --netns namespace')
  t.ok(Object.values(counters).every((v) => v !== 0), 'only counters that moved')
  t.equal(recs.filter((x) => x.type === 'drop' && x.reason === 'PROTO_MEM').length, truth + ofo, 'PROTO_MEM records == TCPRcvQDrop + TCPOFODrop')
  t.match(rt.stderr, new RegExp(`^Kernel counters \\(netns \\d+\\), TCP segments dropped: .*TCPRcvQDrop ${truth}`, 'm'), 'the text summary says it')
  t.match(rt.stderr, /one drop can move two counters or none/, 'and that it is not an identity')
  t.notMatch(rt.stderr, /cannot see these data-path drops/, 'nothing unseen on this kernel')
})
