#!/usr/bin/env node
// Thin entry point: everything lives in lib/ (compiled to dist/ by `npm install`).
import { main } from '../dist/lib/cli/main.js'

main('tcpretrans', process)
