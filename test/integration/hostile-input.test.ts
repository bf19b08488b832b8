// Hostile process names (spaces, an escape sequence, a newline) reach the
// output safely: JSON escapes them and parses back to the same bytes; text
// output escapes control characters, so a terminal never interprets them.
import t from 'tap'
import { nftCounter, sleep } from '../lib/netns.js'
import { jsonRecords } from '../lib/records.js'
import { startCli } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { requireRoot, testHosts } from '../lib/test-hosts.js'

requireRoot('network namespaces, BPF')

const pair = testHosts('hi', 47, `table inet ndt {
  chain input {
    type filter hook input priority 0;
    tcp dport 7001 meta length > 200 counter drop comment "data"
  }
}`)
pair.exec(pair.receiver, ['sysctl', '-qw', 'net.ipv4.tcp_early_demux=1'])

// /proc/self/comm keeps 15 bytes: ESC [ 3 1 m, a space, a newline.
const EVIL = 'ev\u001b[31m il\nX'

/** A process named EVIL in `ns` running `body` (CommonJS, `net` in scope). */
function evil(ns: string, body: string) {
  const script = `require('fs').writeFileSync('/proc/self/comm', ${JSON.stringify(EVIL)}); const net = require('net'); ${body}`
  return pair.spawn(ns, [process.execPath, '-e', script])
}

t.test('tcpdrop: a hostile comm in JSON (the sender) and in the text OWNER column (the receiver)', async (t) => {
  const server = evil(pair.receiver, `net.createServer((c) => c.resume()).listen(7001, '0.0.0.0'); setTimeout(() => process.exit(0), 8000)`)
  t.teardown(() => server.kill('SIGKILL'))
  for (let i = 0; i < 50 && !pair.exec(pair.receiver, ['ss', '-Hltn', 'sport = :7001']).trim(); i++) await sleep(100)
  const json = startCli('tcpdrop', ['-j', '-B', 'bpf', '--no-stack', '--port', '7001'])
  const text = startCli('tcpdrop', ['-B', 'bpf', '--no-stack', '--owner', '--port', '7001'])
  await Promise.all([json.attached, text.attached])
  const before = nftCounter(pair, pair.receiver, 'data')
  const client = evil(pair.sender, `const s = net.connect(7001, '${pair.v4.receiver}', () => { for (let i = 0; i < 20; i++) s.write(Buffer.alloc(1000)); setTimeout(() => process.exit(0), 1500) }); s.on('error', () => process.exit(1))`)
  await new Promise<void>((resolve) => client.on('exit', () => resolve()))
  await sleep(300)
  const dropped = nftCounter(pair, pair.receiver, 'data') - before
  const [rj, rt] = await Promise.all([stopTool(json), stopTool(text)])
  t.ok(dropped > 0, `${dropped} data segments dropped`)
  const comms = new Set(jsonRecords(rj.stdout).filter((r) => r.type === 'drop').map((r) => r.comm))
  t.ok(comms.has(EVIL.slice(0, 15)), `the sender's name came through JSON intact: ${JSON.stringify([...comms])}`)
  t.notMatch(rj.stdout, /\u001b/, 'no raw escape byte in the JSON stream')
  t.notMatch(rt.stdout, /\u001b/, 'no raw escape byte in the text output')
  t.match(rt.stdout, /ev\\x1b\[31m il\\x0aX/, 'the OWNER column shows the name escaped')
  for (const line of rt.stdout.trim().split('\n').slice(1)) t.match(line, /^\d\d:\d\d:\d\d /, 'every text line is a whole record')
})
