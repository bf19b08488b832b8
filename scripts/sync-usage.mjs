#!/usr/bin/env node
// Rewrites the `USAGE message:` section at the end of examples/<tool>_example.txt
// with the tool's current --help (LC_ALL=C), as test/unit/docs.test.ts expects.
// Run after changing options: npm run docs:usage
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'

const MARK = 'USAGE message:'
for (const tool of ['tcpdrop', 'tcpretrans', 'dropwatch']) {
  const file = new URL(`../examples/${tool}_example.txt`, import.meta.url)
  const text = readFileSync(file, 'utf8')
  const at = text.lastIndexOf(MARK)
  if (at < 0) throw new Error(`${tool}_example.txt has no "${MARK}" line`)
  const help = execFileSync(process.execPath, [new URL(`../bin/${tool}.js`, import.meta.url).pathname, '--help'], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
  })
  const after = text.slice(at + MARK.length)
  const gap = /^\n*/.exec(after)?.[0] ?? '\n'
  writeFileSync(file, text.slice(0, at + MARK.length) + gap + help)
}
