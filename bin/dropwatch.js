#!/usr/bin/env node
// Thin entry point: everything lives in lib/ (compiled and bundled into
// dist/bundle/ by `npm run build`, which `npm install` in a clone and `npm pack`
// run; scripts/bundle.mjs says why).
import { main } from '../dist/bundle/main.js'

main('dropwatch', process)
