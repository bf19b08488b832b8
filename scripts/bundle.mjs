// Bundles the CLI that bin/* run: dist/lib/cli/main.js (tsc's output) and
// everything it imports, with each tool and backend in a chunk of its own
// (they are imported lazily), into dist/bundle/. Node 20 resolves, reads and
// links one file per ES module: the ~60 modules of a run cost ~20 ms of
// start-up that one file and a few chunks do not (bench/README.md, "Start-up").
// The unit tests import lib/*.ts through tap's loader; the bins, and so every
// test that runs a tool, use this (test/lib/run-cli.ts refuses a stale one).
// Chunks stay beside the entry: modules find bpf/ and package.json from their
// own URL (dist/<dir>/x.js → ../../).
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('../', import.meta.url))
const outdir = `${root}dist/bundle`

// Chunk names change with their contents: no stale chunk may stay behind.
rmSync(outdir, { recursive: true, force: true })
await build({
  absWorkingDir: root,
  entryPoints: { main: 'dist/lib/cli/main.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // koffi is a native addon; yargs is only loaded for --help and errors.
  external: ['koffi', 'yargs', 'yargs/*'],
  chunkNames: '[name]-[hash]',
  logLevel: 'warning',
})
