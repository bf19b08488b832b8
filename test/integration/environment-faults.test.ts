// Environment faults (real, not mocked): no privileges, libbpf hidden from the
// loader, kernel BTF hidden, a forced backend that cannot serve, stdout closed
// early. Hiding uses a private mount namespace (unshare -m), so the host is
// never changed.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import t from 'tap'
import { binPath, runCli, ROOT } from '../lib/run-cli.js'
import { sleep } from '../lib/netns.js'
import { requireRoot } from '../lib/test-hosts.js'

requireRoot('to drop privileges, and for private mount namespaces')

interface Result {
  code: number | null
  stdout: string
  stderr: string
}

// The test runner's hooks (loaders, process-info writers) must not reach the tools.
const cleanEnv = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' }

function sh(script: string, timeoutMs = 20000): Result {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT, env: cleanEnv })
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' }
}

const node = process.execPath
const LIBBPF = execFileSync('sh', ['-c', 'ls /usr/lib/*/libbpf.so.1 /lib/*/libbpf.so.1 2>/dev/null | head -1'], { encoding: 'utf8' }).trim()

t.test('not root: exit 3 naming the missing privileges', async (t) => {
  for (const tool of ['tcpretrans', 'tcpdrop', 'dropwatch']) {
    // env -i: tap wraps child processes with its own hooks, which nobody may not write.
    const r = sh(`env -i PATH="$PATH" setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all ${node} ${binPath(tool)} -d 1`)
    t.equal(r.code, 3, `${tool}: exit 3`)
    t.match(r.stderr, new RegExp(`^${tool}: error: not permitted: .*CAP_BPF and CAP_PERFMON.*CAP_SYS_ADMIN`), 'names the privileges')
    t.equal(r.stderr.trim().split('\n').length, 1, `one line: ${JSON.stringify(r.stderr)}`)
  }
})

t.test('libbpf.so.1 hidden from the loader: bpf unusable with the reason, auto falls back to ftrace', { skip: LIBBPF ? false : 'libbpf.so.1 not installed' }, async (t) => {
  const hide = `unshare -m sh -c 'mount --bind /dev/null ${LIBBPF} && exec "$@"' -- ${node}`
  const list = sh(`${hide} ${binPath('tcpretrans')} --list-backends`)
  t.equal(list.code, 0)
  t.match(list.stdout, /^bpf: not usable: .*libbpf\.so\.1/m)
  t.match(list.stdout, /^ftrace: usable \(selected by --backend auto\)/m)
  const run = sh(`${hide} ${binPath('tcpretrans')} -d 0.5`)
  t.equal(run.code, 0, 'runs')
  const err = sh(`${hide} ${binPath('tcpretrans')} -B bpf -d 0.5`)
  t.equal(err.code, 4, '-B bpf: exit 4')
  t.match(err.stderr, /bpf: .*libbpf\.so\.1/)
})

t.test('kernel BTF hidden: bpf unusable with the reason, auto falls back', async (t) => {
  const hide = `unshare -m sh -c 'mount --bind /dev/null /sys/kernel/btf/vmlinux && exec "$@"' -- ${node}`
  const list = sh(`${hide} ${binPath('dropwatch')} --list-backends`)
  t.match(list.stdout, /^bpf: not usable: kernel BTF missing/m)
  t.match(list.stdout, /^ftrace: usable \(selected/m)
  const run = sh(`${hide} ${binPath('dropwatch')} -j -i 0.3 -n 1`)
  t.equal(run.code, 0)
  t.match(run.stdout, /"backend":"ftrace"/)
})

t.test('/proc/net/tcp unreadable: the ftrace join says so (exit 4 when forced), bpf still serves', async (t) => {
  // A private mount namespace puts an unreadable tcp table over the tool's own
  // /proc/PID/net (the shell execs node, so PID stays), and the tool runs
  // without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so the mode bits hold for root.
  const hide = `unshare -m sh -c 'mount -t tmpfs none /proc/$$/net && : > /proc/$$/net/tcp && chmod 000 /proc/$$/net/tcp && exec setpriv --bounding-set=-dac_override,-dac_read_search --inh-caps=-dac_override,-dac_read_search "$@"' -- ${node}`
  const list = sh(`${hide} ${binPath('tcpdrop')} --list-backends`)
  t.equal(list.code, 0)
  t.match(list.stdout, /^ftrace: not usable: .*cannot read \/proc\/net\/tcp \(EACCES\)/m, 'ftrace names the unreadable table')
  t.match(list.stdout, /^bpf: usable \(selected by --backend auto\)/m, 'bpf does not need it')
  const forced = sh(`${hide} ${binPath('tcpdrop')} -B ftrace -d 0.5`)
  t.equal(forced.code, 4, '-B ftrace: exit 4')
  t.match(forced.stderr, /cannot read \/proc\/net\/tcp \(EACCES\)/)
  t.notMatch(forced.stderr, /\n\s+at /, 'no stack trace')
  const auto = sh(`${hide} ${binPath('tcpdrop')} -d 0.5`)
  t.equal(auto.code, 0, 'auto runs on bpf')
})

t.test('a damaged BPF object: bpf fails to start, auto falls back to ftrace and says why', async (t) => {
  // The probe does not read the object, so bpf is chosen and fails at start.
  const broken = `unshare -m sh -c 'mount --bind /dev/null ${ROOT}bpf/tcpdrop.bpf.o && exec "$@"' -- ${node}`
  const r = sh(`${broken} ${binPath('tcpdrop')} -d 0.5`)
  t.equal(r.code, 0, 'runs on ftrace')
  t.match(r.stderr, /^tcpdrop: bpf backend: opening .*tcpdrop\.bpf\.o: LIBBPF_ERRNO__FORMAT .*; falling back to ftrace$/m)
  t.match(r.stderr, /^Tracing TCP drops via ftrace/m)
  const forced = sh(`${broken} ${binPath('tcpdrop')} -B bpf -d 0.5`)
  t.not(forced.code, 0, '-B bpf has nothing to fall back to')
  t.match(forced.stderr, /LIBBPF_ERRNO__FORMAT/)
})

t.test('forced backend, hook type or filter that cannot serve: exit 4 listing why', async (t) => {
  const cases: Array<[string, string[], RegExp]> = [
    ['tcpretrans', ['-B', 'ftrace', '--netns', '/proc/self/ns/net'], /ftrace: .*--netns/],
    ['tcpretrans', ['--hook-type', 'kprobe'], /bpf: .*kprobe.*ftrace: .*kprobe/],
    ['tcpretrans', ['-l'], /tcp_send_loss_probe/],
    ['tcpretrans', ['-B', 'ftrace', '--seq'], /--seq/],
    ['dropwatch', ['--port', '80'], /--port cannot be applied/],
  ]
  for (const [tool, args, want] of cases) {
    const r = runCli(tool, args)
    t.equal(r.code, 4, `${tool} ${args.join(' ')}: exit 4`)
    t.match(r.stderr, want)
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line')
  }
})

t.test('stdout closed early (tool | head -1): ends within a second, quietly, exit 0', async (t) => {
  const child = spawn(node, [binPath('tcpdrop'), '--no-stack', '--rate-limit', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
  for (let i = 0; i < 100 && !/Ctrl-C/.test(err); i++) await sleep(50)
  // Drops on loopback: SYNs to a closed port.
  const gen = spawn(node, ['-e', `const net=require('net');let n=0;const go=()=>{if(n++>200)return;const s=net.connect(1,'127.0.0.1');s.on('error',()=>{});s.on('close',go)};go();go();setTimeout(()=>process.exit(0),5000)`])
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
  const closedAt = Date.now()
  child.stdout.destroy()
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
  gen.kill()
  t.equal(code, 0, 'exit 0')
  t.ok(Date.now() - closedAt < 1500, `ended ${Date.now() - closedAt} ms after the reader went away`)
  t.notMatch(err, /error|EPIPE/i, 'quietly')
})

t.test('SIGHUP ends a run cleanly', async (t) => {
  const child = spawn(node, [binPath('tcpretrans'), '-j'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  let out = ''
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  for (let i = 0; i < 100 && !/Ctrl-C/.test(err); i++) await sleep(50)
  child.kill('SIGHUP')
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
  t.equal(code, 0)
  t.match(out, /"type":"summary"/, 'final summary printed')
})
