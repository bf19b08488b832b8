// The package as users get it (issue 14.3): `npm pack`, then a global install
// of the tarball into a fresh prefix (dependencies from the registry, as
// usual), and the tools run from that prefix's bin/ with their man pages on
// its MANPATH. Needs the npm registry, as `npm install` does.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'

const root = new URL('../..', import.meta.url).pathname
const work = mkdtempSync(join(tmpdir(), 'netdrop-pack-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  execFileSync(cmd, args, { cwd: work, encoding: 'utf8', timeout: 180_000, env: { ...process.env, npm_config_loglevel: 'error', ...env } })

interface PackedFile {
  path: string
  size: number
}

const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work, root], { cwd: root, encoding: 'utf8', timeout: 180_000 })) as Array<{
  filename: string
  files: PackedFile[]
}>
const tarball = join(work, packed?.filename ?? 'missing.tgz')

t.test('the tarball holds the tools, the compiled BPF objects and the man pages, and nothing large besides', async (t) => {
  const paths = (packed?.files ?? []).map((f) => f.path)
  for (const tool of ['tcpdrop', 'tcpretrans', 'dropwatch']) {
    t.ok(paths.includes(`bin/${tool}.js`), `bin/${tool}.js`)
    t.ok(paths.includes(`man/man8/${tool}.8`), `man/man8/${tool}.8`)
    t.ok(paths.includes(`bpf/${tool}.bpf.o`), `bpf/${tool}.bpf.o (no compiler needed)`)
  }
  t.notOk(paths.some((p) => /^(test|bench|scripts)\//.test(p) || /\.bpf\.c$/.test(p)), 'no tests, benches or BPF sources')
  const large = (packed?.files ?? []).filter((f) => f.size > 256 * 1024 && !/\.bpf\.o$/.test(f.path))
  t.same(large, [], 'no other file over 256 KiB')
  t.ok(statSync(tarball).size < 2 * 1024 * 1024, `tarball ${statSync(tarball).size} bytes`)
})

t.test('npm install -g of the tarball into a fresh prefix: the tools from PATH, man finds their pages', async (t) => {
  const prefix = join(work, 'prefix')
  run('npm', ['install', '-g', '--no-audit', '--no-fund', '--prefix', prefix, tarball])
  const env = { PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, MANPATH: join(prefix, 'share', 'man') }
  for (const tool of ['tcpdrop', 'tcpretrans', 'dropwatch']) {
    t.match(run(tool, ['--version'], env), new RegExp(`^${tool} \\(netdrop-tools\\) \\d+\\.\\d+\\.\\d+$`, 'm'), `${tool} --version`)
    t.match(run(tool, ['--help'], env), new RegExp(`^Usage: ${tool}`, 'm'), `${tool} --help`)
    t.match(run(tool, ['--list-backends'], env), /^bpf:/m, `${tool} --list-backends`)
    // npm links share/man/man8/TOOL.8 to the package's copy; man -w names the target.
    const page = run('man', ['-w', tool], env).trim()
    t.ok(page.startsWith(prefix + '/') && page.endsWith(`/man8/${tool}.8`), `man ${tool}: ${page}`)
  }
  t.match(run('which', ['tcpdrop'], env).trim(), new RegExp(`^${join(prefix, 'bin')}/tcpdrop$`), 'tcpdrop is the installed one')
})

t.test('npx from the tarball', async (t) => {
  t.match(run('npx', ['--yes', '--package', tarball, 'tcpretrans', '--version'], { npm_config_cache: join(work, 'npx-cache') }), /^tcpretrans \(netdrop-tools\) \d+\.\d+\.\d+$/m)
})
