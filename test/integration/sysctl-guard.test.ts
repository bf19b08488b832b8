// kptr_restrict (SPEC §2): the tools never write it unless --allow-sysctl, then
// set it to 1 for the run and restore it on exit — and after a SIGKILL, the
// next run restores it. The test itself sets kptr_restrict=2 (the hardened
// setting that hides socket pointers) and puts the original value back.
import { readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import t from 'tap'
import { sleep } from '../lib/netns.js'
import { jsonRecords } from '../lib/records.js'
import { runCli, startCli } from '../lib/run-cli.js'
import { stopTool } from '../lib/stop-tool.js'
import { requireRoot } from '../lib/test-hosts.js'

requireRoot('writes kernel.kptr_restrict')

const KPTR = '/proc/sys/kernel/kptr_restrict'
const kptr = () => readFileSync(KPTR, 'utf8').trim()
const original = kptr()
t.teardown(() => writeFileSync(KPTR, original))
writeFileSync(KPTR, '2')

t.test('kptr_restrict=2: the ftrace join is impossible and said so; nothing is written', async (t) => {
  const r = runCli('tcpdrop', ['-B', 'ftrace', '-d', '0.5'])
  t.equal(r.code, 4)
  t.match(r.stderr, /kptr_restrict=2: \/proc\/net\/tcp prints no socket pointers.*--allow-sysctl/)
  t.equal(kptr(), '2', 'untouched')
})

t.test('kptr_restrict=2: bpf stacks print raw addresses and say why', async (t) => {
  const tool = startCli('tcpdrop', ['-j', '-B', 'bpf', '--port', '1'])
  await tool.attached
  await new Promise<void>((resolve) => {
    const s = connect(1, '127.0.0.1')
    s.on('error', () => resolve())
    s.on('close', () => resolve())
  })
  await sleep(300)
  const r = await stopTool(tool)
  const drop = jsonRecords(r.stdout).find((x) => x.type === 'drop')
  t.ok(drop, 'the RST-provoking SYN to port 1 was dropped and reported')
  t.match(drop?.location, /^0x[0-9a-f]+$/, 'location is a raw address')
  t.match(r.stderr, /kernel addresses are hidden \(kptr_restrict\)/)
  t.equal(kptr(), '2')
})

t.test('--allow-sysctl: 1 during the run, restored at exit and after SIGKILL by the next run', async (t) => {
  const a = startCli('tcpdrop', ['-B', 'ftrace', '--allow-sysctl'])
  await a.attached
  t.equal(kptr(), '1', 'set to 1 while running')
  t.match(a.stderr(), /kernel\.kptr_restrict 2 → 1 for this run/)
  await stopTool(a)
  t.equal(kptr(), '2', 'restored at exit')

  const b = startCli('tcpdrop', ['-B', 'ftrace', '--allow-sysctl'])
  await b.attached
  b.child.kill('SIGKILL')
  await b.exited
  t.equal(kptr(), '1', 'a killed run cannot restore it')
  const c = runCli('tcpretrans', ['-d', '0.3'])
  t.equal(c.code, 0)
  t.match(c.stderr, /restored kernel\.kptr_restrict=2 changed by run netdrop_tcpdrop_\d+_\d+, which no longer exists/)
  t.equal(kptr(), '2', 'restored by the next run')
})
