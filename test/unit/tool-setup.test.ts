import t from 'tap'
import { buildParser } from '../../lib/cli/parse-args.js'
import { toolSetup } from '../../lib/cli/tool-setup.js'
import { UsageError } from '../../lib/errors.js'
import type { KindRequest } from '../../lib/events.js'
import { dropwatch } from '../../lib/tools/dropwatch.js'
import { tcpdrop } from '../../lib/tools/tcpdrop.js'
import { tcpretrans } from '../../lib/tools/tcpretrans.js'
import type { ToolDefinition } from '../../lib/tools/tool.js'
import { optionsFor } from '../lib/output-context.js'

// From argv to what a run is made of: the RunRequest, one KindRequest per
// event kind (required or not, the fields each option prints, the kind's
// options), filters merged with the tool's own, the tool's checks.

function setup<O>(tool: ToolDefinition<O>, argv: string[]) {
  return toolSetup(tool, buildParser(tool, argv).parseSync() as Record<string, unknown>)
}

const NO_FILTERS = { family: null, ports: [], addrs: [], netns: null, reasons: [] }

t.test('the RunRequest: common options, filters, rate limit', async (t) => {
  t.strictSame(setup(tcpretrans, []).run, { tool: 'tcpretrans', filters: NO_FILTERS, hookType: 'auto', rateLimit: 10000, bufferKb: 4096, debug: false })
  t.strictSame(
    setup(tcpretrans, ['-4', '--port', '443', '--port', '80', '--addr', '10.0.0.1', '--netns', '4026531840', '--hook-type', 'kprobe', '--rate-limit', '5', '--buffer-kb', '128', '--debug']).run,
    {
      tool: 'tcpretrans',
      filters: { family: 4, ports: [443, 80], addrs: ['10.0.0.1'], netns: 4026531840, reasons: [] },
      hookType: 'kprobe',
      rateLimit: 5,
      bufferKb: 128,
      debug: true,
    },
  )
  t.strictSame(setup(tcpdrop, ['-6', '--addr', '2001:DB8:0::1']).run.filters, { ...NO_FILTERS, family: 6, addrs: ['2001:db8::1'] }, 'addresses in canonical text')
  t.equal(setup(tcpdrop, ['--rate-limit', '0']).run.rateLimit, 0)
})

t.test('RunRequest.rateLimit is 0 when the tool does not print each event', async (t) => {
  t.equal(setup(tcpretrans, ['--rate-limit', '7']).run.rateLimit, 7)
  t.equal(setup(tcpretrans, ['-c', '--rate-limit', '7']).run.rateLimit, 0, 'tcpretrans -c counts, prints no events')
  t.equal(setup(tcpretrans, ['-c']).common.rateLimit, 10000, 'the option itself is kept')
  t.equal(setup(tcpdrop, ['--rate-limit', '7']).run.rateLimit, 7)
  t.equal(setup(dropwatch, []).run.rateLimit, 0, 'dropwatch has no --rate-limit')
  t.equal(setup(dropwatch, []).run.tool, 'dropwatch')
})

t.test('filters: --reason joins the common filters (run and common alike)', async (t) => {
  const drop = setup(tcpdrop, ['--reason', 'no_socket', '--reason', 'TCP_CSUM', '--port', '22'])
  t.strictSame(drop.run.filters, { ...NO_FILTERS, ports: [22], reasons: ['NO_SOCKET', 'TCP_CSUM'] })
  t.strictSame(drop.common.filters, drop.run.filters)
  const watch = setup(dropwatch, ['--reason', 'OTHERHOST', '-4'])
  t.strictSame(watch.run.filters, { ...NO_FILTERS, family: 4, reasons: ['OTHERHOST'] })
  t.strictSame(watch.common.filters, watch.run.filters)
  t.strictSame(setup(tcpretrans, ['--port', '1']).run.filters.reasons, [], 'tcpretrans has no --reason')
})

t.test('typed options and common options come along', async (t) => {
  const s = setup(tcpdrop, ['--owner', '-j', '-q', '-n', '3', '-d', '1.5', '-B', 'ftrace'])
  t.strictSame(s.options, optionsFor(tcpdrop, ['--owner']))
  t.strictSame(
    [s.common.json, s.common.quiet, s.common.maxEvents, s.common.durationS, s.common.backend, s.common.listBackends],
    [true, true, 3, 1.5, 'ftrace', false],
  )
  t.equal(setup(tcpdrop, ['--list-backends']).common.listBackends, true)
})

t.test('tcpdrop requests', async (t) => {
  const kinds = (argv: string[]) => setup(tcpdrop, argv).kinds
  const req = (over: { fields?: KindRequest['fields']; stack?: { depth: number; rate: number } | null; owner?: boolean; hideNotSpecified?: boolean } = {}) => [
    {
      kind: 'tcp-drop',
      required: true,
      fields: over.fields ?? { stack: 'stacks' },
      options: { stack: over.stack === undefined ? { depth: 16, rate: 1000 } : over.stack, owner: over.owner ?? false, hideNotSpecified: over.hideNotSpecified ?? true },
    },
  ]
  t.strictSame(kinds([]), req(), 'default: stacks, NOT_SPECIFIED hidden')
  t.strictSame(kinds(['--no-stack']), req({ fields: {}, stack: null }))
  t.strictSame(kinds(['--stack-depth', '4', '--stack-rate', '0']), req({ stack: { depth: 4, rate: 0 } }))
  t.strictSame(kinds(['--owner']), req({ owner: true }))
  t.strictSame(kinds(['--all-reasons']), req({ hideNotSpecified: false }))
  t.strictSame(kinds(['--reason', 'NO_SOCKET']), req({ hideNotSpecified: false }), 'any --reason shows what it names')
  t.strictSame(kinds(['--reason', 'NOT_SPECIFIED']), req({ hideNotSpecified: false }))
  t.strictSame(tcpdrop.requests(optionsFor(tcpdrop, []), true), req(), 'all kinds: the same one')
})

t.test('tcpretrans requests', async (t) => {
  const kinds = (argv: string[]) => setup(tcpretrans, argv).kinds
  const retransmit = (fields: KindRequest['fields'] = {}, stack: { depth: number; rate: number } | null = null, includeFailed = false) => ({
    kind: 'tcp-retransmit',
    required: true,
    fields,
    options: { stack, includeFailed },
  })
  const synack = (fields: KindRequest['fields'] = {}, stack: { depth: number; rate: number } | null = null, required = true) => ({
    kind: 'tcp-synack-retransmit',
    required,
    fields,
    options: { stack },
  })
  const tlp = (fields: KindRequest['fields'] = {}, stack: { depth: number; rate: number } | null = null, required = true) => ({
    kind: 'tcp-loss-probe',
    required,
    fields,
    options: { stack },
  })
  const stack = { depth: 16, rate: 0 }

  t.strictSame(kinds([]), [retransmit(), synack()], 'retransmits and SYN-ACK retransmits, both required')
  t.strictSame(kinds(['-l']), [retransmit(), synack(), tlp()], '-l adds a required loss-probe kind')
  t.strictSame(kinds(['--no-synack']), [retransmit()], '--no-synack drops the SYN-ACK kind')
  t.strictSame(kinds(['--no-synack', '-l']), [retransmit(), tlp()])
  t.strictSame(kinds(['-s', '-l']), [retransmit({ stack: '-s' }, stack), synack({ stack: '-s' }, stack), tlp({ stack: '-s' }, stack)], '-s: stacks on every kind')
  t.strictSame(kinds(['--seq']), [retransmit({ seq: '--seq' }), synack()], '--seq: a field of retransmits only')
  t.strictSame(kinds(['--err']), [retransmit({ err: '--err' }, null, true), synack()], '--err: failed attempts too')
  t.strictSame(kinds(['-s', '--seq', '--err']), [retransmit({ stack: '-s', seq: '--seq', err: '--err' }, stack, true), synack({ stack: '-s' }, stack)])
  t.strictSame(kinds(['-c']), [retransmit(), synack()])

  // Every kind the tool can use (--list-backends): the optional ones not required.
  const all = (argv: string[]) => tcpretrans.requests(optionsFor(tcpretrans, argv), true)
  t.strictSame(all([]), [retransmit(), synack(), tlp({}, null, false)])
  t.strictSame(all(['--no-synack']), [retransmit(), synack({}, null, false), tlp({}, null, false)])
  t.strictSame(all(['-l']), [retransmit(), synack(), tlp()])
  t.strictSame(all(['-s']), [retransmit({ stack: '-s' }, stack), synack({ stack: '-s' }, stack), tlp({ stack: '-s' }, stack, false)])
})

t.test('dropwatch requests', async (t) => {
  const kinds = (argv: string[]) => setup(dropwatch, argv).kinds
  t.strictSame(kinds([]), [{ kind: 'skb-drop-count', required: true, fields: {}, options: { groupByDev: false } }])
  t.strictSame(kinds(['--by', 'dev']), [{ kind: 'skb-drop-count', required: true, fields: { dev: '--by dev' }, options: { groupByDev: true } }])
  t.strictSame(kinds(['--by', 'reason', '--reason', 'NO_SOCKET']), kinds([]), 'other --by and --reason change no request')
  t.strictSame(dropwatch.requests(optionsFor(dropwatch, []), true), kinds([]))
})

t.test('tcpretrans checks its combinations (UsageError, exit 2)', async (t) => {
  const bad: Array<[string[], string]> = [
    [['-c', '-s'], '-c (count) and -s (stack) exclude each other'],
    [['--count', '--stack'], '-c (count) and -s (stack) exclude each other'],
    [['-c', '--seq'], '-c (count) and --seq exclude each other'],
    [['-i', '2'], '-i/--interval needs -c (count mode)'],
    [['-s', '-i', '2'], '-i/--interval needs -c (count mode)'],
  ]
  for (const [argv, message] of bad) {
    let err: unknown = null
    try {
      setup(tcpretrans, argv)
    } catch (e) {
      err = e
    }
    t.type(err, UsageError, argv.join(' '))
    t.equal((err as UsageError | null)?.exitCode, 2)
    t.equal((err as Error | null)?.message, message)
  }
  for (const argv of [['-c', '-i', '2'], ['-c', '-l', '--err', '--no-synack'], ['-s', '--seq', '--err', '-l']]) {
    t.doesNotThrow(() => setup(tcpretrans, argv), argv.join(' '))
  }
  t.equal(setup(tcpretrans, ['-c', '-i', '2']).options.interval, 2)
})

t.test('common option errors come through toolSetup', async (t) => {
  t.throws(() => setup(tcpdrop, ['-4', '-6']), new UsageError('-4 and -6 exclude each other'))
  t.throws(() => setup(tcpdrop, ['--port', '0']), new UsageError('--port: needs an integer from 1 to 65535, not "0"'))
  t.throws(() => setup(tcpretrans, ['-n', '0']), new UsageError(`--max-events: needs an integer from 1 to ${Number.MAX_SAFE_INTEGER}, not "0"`))
  t.throws(() => setup(dropwatch, ['--buffer-kb', '1']), new UsageError('--buffer-kb: needs an integer from 64 to 1048576, not "1"'))
})
