// Shell completions are generated from the yargs option definitions
// (scripts/gen-completions.mjs); the committed completions/ must equal a fresh
// generation, so they never go stale when an option changes, and the bash file
// must parse. Needs a built dist/ (npm run build), like every test that runs a tool.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import t from 'tap'
import { ROOT } from '../lib/run-cli.js'

const FILES = ['netdrop.bash', '_netdrop']

t.test('completions/ equals a fresh `npm run completions`', async (t) => {
  const dir = mkdtempSync(`${tmpdir()}/netdrop-completions-`)
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const r = spawnSync(process.execPath, [`${ROOT}scripts/gen-completions.mjs`, '--out', dir], { encoding: 'utf8', timeout: 20000 })
  t.equal(r.status, 0, `generator exits 0 ${r.stderr}`)
  for (const f of FILES) {
    t.equal(readFileSync(`${ROOT}completions/${f}`, 'utf8'), readFileSync(`${dir}/${f}`, 'utf8'), `completions/${f} is current (run: npm run completions)`)
  }
})

t.test('bash -n accepts completions/netdrop.bash', async (t) => {
  const r = spawnSync('bash', ['-n', `${ROOT}completions/netdrop.bash`], { encoding: 'utf8', timeout: 20000 })
  t.equal(r.status, 0, 'exit 0')
  t.equal(r.stderr, '', 'no syntax errors')
})

t.test('bash completes options and their values', async (t) => {
  const complete = (tool: string, words: string[]): string[] => {
    const script = [
      `source ${JSON.stringify(`${ROOT}completions/netdrop.bash`)}`,
      `COMP_WORDS=(${[tool, ...words].map((w) => JSON.stringify(w)).join(' ')})`,
      `COMP_CWORD=${words.length}`,
      `_netdrop_${tool}`,
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n')
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 20000 })
    return r.stdout.split('\n').filter(Boolean)
  }
  t.same(complete('dropwatch', ['--by', '']), ['location', 'reason', 'both', 'dev'])
  t.same(complete('tcpdrop', ['-B', '']), ['auto', 'bpf', 'ftrace'])
  t.same(complete('tcpretrans', ['--hook-type', 'k']), ['kprobe'])
  t.same(complete('tcpdrop', ['--no-s']), ['--no-stack'])
  t.same(complete('tcpretrans', ['--no-s']), ['--no-synack'])
  t.ok(complete('tcpretrans', ['-']).includes('--lossprobe'), 'tool options')
  t.notOk(complete('tcpretrans', ['-']).includes('--by'), 'only the tool\'s own options')
})
