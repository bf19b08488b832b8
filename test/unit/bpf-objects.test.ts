// The shipped CO-RE objects are built from the sources in the tree: each
// object's recorded source hash (bpf/objects.sha256, written by
// `npm run build:bpf`) equals the hash of its current sources.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { ROOT } from '../lib/run-cli.js'

const recorded = new Map(
  readFileSync(`${ROOT}bpf/objects.sha256`, 'utf8')
    .trim()
    .split('\n')
    .map((l) => {
      const [hash, src] = l.split(/\s+/)
      return [src ?? '', hash ?? ''] as const
    }),
)

for (const src of readdirSync(`${ROOT}bpf`).filter((f) => f.endsWith('.bpf.c'))) {
  t.test(src, async (t) => {
    const obj = src.replace(/\.c$/, '.o')
    t.ok(existsSync(`${ROOT}bpf/${obj}`), `${obj} is shipped`)
    const now = execFileSync('sh', [`${ROOT}bpf/source-hash.sh`, src], { encoding: 'utf8' }).trim()
    t.equal(recorded.get(src), now, `${obj} was built from the current sources (else: npm run build:bpf)`)
  })
}
