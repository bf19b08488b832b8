// tcpretrans: TCP retransmits, SYN-ACK retransmits, tail loss probes (SPEC §5).
import { DEFAULT_STACK_DEPTH, type KindRequest, type StackRequest } from '../events.js'
import { UsageError } from '../errors.js'
import { flag, optionalSeconds, type OptionSpecs } from '../cli/option-spec.js'
import type { ToolDefinition } from './tool.js'
import { TcpretransOutput } from './tcpretrans-output.js'

export interface TcpretransOptions {
  lossprobe: boolean
  err: boolean
  noSynack: boolean
  stack: boolean
  count: boolean
  interval: number | null
  seq: boolean
}

const group = 'tcpretrans:'

const options: OptionSpecs<TcpretransOptions> = {
  lossprobe: flag('lossprobe', { alias: 'l', describe: 'also trace tail loss probe attempts (L lines; needs a kprobe)', group }),
  err: flag('err', { describe: 'also show failed retransmit attempts (F lines, 6.17+ kernels)', group }),
  noSynack: flag('no-synack', { describe: 'hide SYN-ACK retransmits of listening sockets', group }),
  stack: flag('stack', { alias: 's', describe: 'print the kernel stack under each event (bcc uses -s for sequence numbers: see --seq)', group }),
  count: flag('count', { alias: 'c', describe: 'count retransmits per flow; print the table on exit', group }),
  interval: optionalSeconds('interval', { alias: 'i', describe: 'with -c: print (and reset) the table every SECONDS', group }),
  seq: flag('seq', { describe: 'add the sequence number column', group }),
}

export const tcpretrans: ToolDefinition<TcpretransOptions> = {
  name: 'tcpretrans',
  summary: 'Trace TCP retransmits (and SYN-ACK retransmits, tail loss probes).',
  tracing: 'TCP retransmits',
  maxCounts: 'events',
  perEventTool: true,
  options,
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
  check(o) {
    if (o.count && o.stack) throw new UsageError('-c (count) and -s (stack) exclude each other')
    if (o.count && o.seq) throw new UsageError('-c (count) and --seq exclude each other')
    if (o.interval !== null && !o.count) throw new UsageError('-i/--interval needs -c (count mode)')
  },
  printsEachEvent: (o) => !o.count,
  requests(o, all) {
    const stack: StackRequest | null = o.stack ? { depth: DEFAULT_STACK_DEPTH, rate: 0 } : null
    const stackField = o.stack ? { stack: '-s' } : {}
    const kinds: KindRequest[] = [
      {
        kind: 'tcp-retransmit',
        required: true,
        // SYN-ACKs have no sequence number worth a column: --seq prints `-` for them.
        fields: { ...stackField, ...(o.seq ? { seq: '--seq' } : {}), ...(o.err ? { err: '--err' } : {}) },
        options: { stack, includeFailed: o.err },
      },
    ]
    if (all || !o.noSynack) kinds.push({ kind: 'tcp-synack-retransmit', required: !o.noSynack, fields: stackField, options: { stack } })
    if (all || o.lossprobe) kinds.push({ kind: 'tcp-loss-probe', required: o.lossprobe, fields: stackField, options: { stack } })
    return kinds
  },
  intervalSeconds: (o) => o.interval,
  createOutput: (ctx) => new TcpretransOutput(ctx),
}
