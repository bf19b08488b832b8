#!/usr/bin/env node
// Thin entry point: everything lives in lib/ (compiled to dist/ by `npm install`).
import module from 'node:module'

// Node 22.1+ keeps the compiled modules between runs (start-up: see bench/README.md);
// Node 20 has no such cache and goes on without it.
module.enableCompileCache?.()
const { main } = await import('../dist/lib/cli/main.js')

main('dropwatch', process)
