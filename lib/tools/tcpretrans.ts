// tcpretrans: TCP retransmits, SYN-ACK retransmits, tail loss probes (SPEC §5).
import type { KindRequest, OptionalField } from '../backend.js'
import { UsageError } from '../errors.js'
import type { ToolDefinition } from './tool.js'
import { TcpretransOutput } from './tcpretrans-output.js'

export const tcpretrans: ToolDefinition = {
  name: 'tcpretrans',
  summary: 'Trace TCP retransmits (and SYN-ACK retransmits, tail loss probes).',
  tracing: 'TCP retransmits',
  maxCounts: 'events',
  printsEachEvent: (args) => !args.count,
  perEventTool: true,
  options: {
    lossprobe: { alias: 'l', type: 'boolean', describe: 'also trace tail loss probe attempts (L lines; needs a kprobe)', group: 'tcpretrans:' },
    err: { type: 'boolean', describe: 'also show failed retransmit attempts (F lines, 6.17+ kernels)', group: 'tcpretrans:' },
    'no-synack': { type: 'boolean', describe: 'hide SYN-ACK retransmits of listening sockets', group: 'tcpretrans:' },
    stack: { alias: 's', type: 'boolean', describe: 'print the kernel stack under each event (bcc uses -s for sequence numbers: see --seq)', group: 'tcpretrans:' },
    count: { alias: 'c', type: 'boolean', describe: 'count retransmits per flow; print the table on exit', group: 'tcpretrans:' },
    interval: { alias: 'i', type: 'number', describe: 'with -c: print (and reset) the table every SECONDS', requiresArg: true, group: 'tcpretrans:' },
    seq: { type: 'boolean', describe: 'add the sequence number column', group: 'tcpretrans:' },
  },
  examples: [
    ['tcpretrans', 'trace TCP retransmits'],
    ['tcpretrans -l', 'also trace tail loss probe attempts'],
    ['tcpretrans -c -d 10', 'count retransmits per flow for 10 seconds'],
    ['tcpretrans -s --port 443', 'with kernel stacks, port 443 only'],
    ['tcpretrans -j -n 100', 'first 100 retransmits as JSON Lines'],
    ['tcpretrans --list-backends', 'what each backend can trace on this kernel'],
  ],
  helpNotes:
    'T column: R> retransmit (incl. SYN-ACK), L> tail loss probe (-l), F> failed attempt (--err).\n' +
    'Note: -s prints stacks, as in perf-tools tcpretrans; bcc tcpretrans used -s for sequence numbers (here: --seq).',
  validate(args) {
    if (args.count && args.stack) throw new UsageError('-c (count) and -s (stack) exclude each other')
    if (args.count && args.seq) throw new UsageError('-c (count) and --seq exclude each other')
    if (args.interval !== undefined) {
      if (!args.count) throw new UsageError('-i/--interval needs -c (count mode)')
      const i = args.interval
      if (typeof i !== 'number' || !Number.isFinite(i) || i <= 0) throw new UsageError(`--interval: needs a positive number, not "${String(i)}"`)
    }
  },
  kinds(args) {
    const kinds: KindRequest[] = [{ kind: 'tcp-retransmit', required: true }]
    if (!args['no-synack']) kinds.push({ kind: 'tcp-synack-retransmit', required: true })
    if (args.lossprobe) kinds.push({ kind: 'tcp-loss-probe', required: true })
    return kinds
  },
  allKinds(args) {
    return [
      { kind: 'tcp-retransmit', required: true },
      { kind: 'tcp-synack-retransmit', required: !args['no-synack'] },
      { kind: 'tcp-loss-probe', required: Boolean(args.lossprobe) },
    ]
  },
  fields(args) {
    const f: OptionalField[] = []
    if (args.seq) f.push('seq')
    if (args.err) f.push('err')
    if (args.stack) f.push('stack')
    return f
  },
  includeFailed: (args) => Boolean(args.err),
  intervalSeconds: (args) => (typeof args.interval === 'number' ? args.interval : null),
  createOutput: (ctx) => new TcpretransOutput(ctx),
}
