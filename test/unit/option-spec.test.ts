import t from 'tap'
import { buildParser } from '../../lib/cli/parse-args.js'
import {
  asList,
  choice,
  flag,
  integer,
  integerIn,
  optionalInteger,
  optionalSeconds,
  optionalText,
  positiveNumber,
  readOptions,
  seconds,
  textList,
  yargsOptions,
  type OptionSpecs,
} from '../../lib/cli/option-spec.js'
import { UsageError } from '../../lib/errors.js'
import { dropwatch } from '../../lib/tools/dropwatch.js'
import { tcpdrop } from '../../lib/tools/tcpdrop.js'
import { tcpretrans } from '../../lib/tools/tcpretrans.js'
import type { ToolDefinition } from '../../lib/tools/tool.js'
import { optionsFor } from '../lib/output-context.js'

// Option specs: each tool's typed options from real argv (the yargs parser the
// CLI uses), their defaults, and the exact usage errors (exit 2).

/** What reading these arguments throws (null when nothing). */
function readError<O>(tool: ToolDefinition<O>, argv: string[]): unknown {
  try {
    optionsFor(tool, argv)
  } catch (err) {
    return err
  }
  return null
}

t.test('defaults', async (t) => {
  t.strictSame(optionsFor(tcpdrop, []), { reasons: [], allReasons: false, noStack: false, stackDepth: 16, stackRate: 1000, owner: false })
  t.strictSame(optionsFor(tcpretrans, []), { lossprobe: false, err: false, noSynack: false, stack: false, count: false, interval: null, seq: false })
  t.strictSame(optionsFor(dropwatch, []), { interval: 5, addresses: false, by: 'both', top: null, reasons: [], prometheus: null })
})

t.test('values from argv, long and short', async (t) => {
  t.strictSame(optionsFor(tcpdrop, ['--reason', 'no_socket', '--reason', 'SKB_DROP_REASON_TCP_CSUM', '--all-reasons', '--no-stack', '--stack-depth', '32', '--stack-rate', '0', '--owner']), {
    reasons: ['NO_SOCKET', 'TCP_CSUM'],
    allReasons: true,
    noStack: true,
    stackDepth: 32,
    stackRate: 0,
    owner: true,
  })
  t.strictSame(optionsFor(tcpdrop, ['--stack-depth', '1']).stackDepth, 1)
  t.strictSame(optionsFor(tcpretrans, ['-l', '--err', '--no-synack', '-s', '--seq']), { lossprobe: true, err: true, noSynack: true, stack: true, count: false, interval: null, seq: true })
  t.strictSame(optionsFor(tcpretrans, ['-c', '-i', '0.5']), { lossprobe: false, err: false, noSynack: false, stack: false, count: true, interval: 0.5, seq: false })
  t.strictSame(optionsFor(tcpretrans, ['--count', '--interval', '2']).interval, 2)
  t.strictSame(optionsFor(dropwatch, ['-i', '1', '-a', '--by', 'reason', '--top', '3', '--reason', 'NO_SOCKET', '--prometheus', '127.0.0.1:9464']), {
    interval: 1,
    addresses: true,
    by: 'reason',
    top: 3,
    reasons: ['NO_SOCKET'],
    prometheus: { host: '127.0.0.1', port: 9464 },
  })
  t.strictSame(optionsFor(dropwatch, ['--prometheus', '9464']).prometheus, { host: '127.0.0.1', port: 9464 })
  t.strictSame(optionsFor(dropwatch, ['--top', '1']).top, 1)
  for (const by of ['location', 'reason', 'both', 'dev']) t.equal(optionsFor(dropwatch, ['--by', by]).by, by)
})

t.test('range errors: exact messages, exit 2', async (t) => {
  const [drop, retrans, watch] = [tcpdrop, tcpretrans, dropwatch] as Array<ToolDefinition<unknown>>
  const cases: Array<[ToolDefinition<unknown> | undefined, string[], string]> = [
    [drop, ['--stack-depth', '0'], '--stack-depth: needs an integer from 1 to 32, not "0"'],
    [drop, ['--stack-depth', '33'], '--stack-depth: needs an integer from 1 to 32, not "33"'],
    [drop, ['--stack-depth', '2.5'], '--stack-depth: needs an integer from 1 to 32, not "2.5"'],
    [drop, ['--stack-depth', 'many'], '--stack-depth: needs an integer from 1 to 32, not "many"'],
    [drop, ['--stack-rate', '-1'], '--stack-rate: needs an integer from 0 to 1000000, not "-1"'],
    [drop, ['--stack-rate', '1000001'], '--stack-rate: needs an integer from 0 to 1000000, not "1000001"'],
    [drop, ['--reason', 'no socket!'], '--reason: needs a drop-reason name such as NO_SOCKET, not "NO SOCKET!"'],
    [watch, ['--top', '0'], '--top: needs an integer >= 1, not "0"'],
    [watch, ['--top', '1.5'], '--top: needs an integer >= 1, not "1.5"'],
    [watch, ['-i', '0'], '--interval: needs a positive number, not "0"'],
    [watch, ['-i', '-2'], '--interval: needs a positive number, not "-2"'],
    [watch, ['-i', 'soon'], '--interval: needs a positive number, not "soon"'],
    [watch, ['--prometheus', 'nonsense'], '--prometheus: "nonsense" has no port number (want PORT, HOST:PORT or [IPv6]:PORT)'],
    [retrans, ['-c', '-i', '0'], '--interval: needs a positive number, not "0"'],
  ]
  for (const [tool, argv, message] of cases) {
    if (!tool) throw new Error('no tool')
    const err = readError(tool, argv)
    const what = `${tool.name} ${argv.join(' ')}`
    t.type(err, UsageError, what)
    t.equal((err as UsageError | null)?.exitCode, 2, `${what}: exit 2`)
    t.equal((err as Error | null)?.message, message, `${what}: message`)
  }
})

t.test('yargsOptions: one yargs definition per spec, keyed by flag, in declaration (--help) order', async (t) => {
  const defs = yargsOptions(tcpdrop.options)
  t.strictSame(Object.keys(defs), ['reason', 'all-reasons', 'no-stack', 'stack-depth', 'stack-rate', 'owner'])
  t.strictSame(defs['stack-depth'], { requiresArg: true, default: 16, describe: 'at most N stack frames', group: 'tcpdrop:', type: 'string' })
  t.equal(defs['all-reasons']?.type, 'boolean')
  t.equal(defs.reason?.type, 'string')
  t.strictSame(Object.keys(yargsOptions(tcpretrans.options)), ['lossprobe', 'err', 'no-synack', 'stack', 'count', 'interval', 'seq'])
  t.strictSame(Object.keys(yargsOptions(dropwatch.options)), ['interval', 'addresses', 'by', 'top', 'reason', 'prometheus'])
  t.strictSame(yargsOptions(dropwatch.options).by?.choices, ['location', 'reason', 'both', 'dev'])
  // A tool's parser takes its own flags only.
  t.throws(() => buildParser(tcpdrop, ['--seq']).parseSync(), new UsageError('Unknown argument: seq'))
  t.throws(() => buildParser(tcpretrans, ['--owner']).parseSync(), new UsageError('Unknown argument: owner'))
})

t.test('the spec builders', async (t) => {
  interface O {
    on: boolean
    n: number
    maybe: number | null
    s: number
    maybeS: number | null
    c: 'a' | 'b'
    text: string | null
    list: string[]
  }
  const checked: string[] = []
  const specs: OptionSpecs<O> = {
    on: flag('on', { describe: 'x' }),
    n: integer('n', { min: 2, max: 4 }, { default: 3, describe: 'x' }),
    maybe: optionalInteger('maybe', { min: 0 }, { describe: 'x' }),
    s: seconds('s', { default: 1, describe: 'x' }),
    maybeS: optionalSeconds('maybe-s', { describe: 'x' }),
    c: choice<'a' | 'b'>('c', ['a', 'b'], { default: 'a', describe: 'x' }),
    text: optionalText('text', { describe: 'x' }, (s) => {
      checked.push(s)
      if (s === 'bad') throw new UsageError('--text: bad')
    }),
    list: textList('list', { describe: 'x' }, (s) => s.toUpperCase()),
  }
  t.strictSame(Object.keys(yargsOptions(specs)), ['on', 'n', 'maybe', 's', 'maybe-s', 'c', 'text', 'list'])
  t.strictSame(readOptions(specs, { n: 2, s: 0.1, c: 'b' }), { on: false, n: 2, maybe: null, s: 0.1, maybeS: null, c: 'b', text: null, list: [] })
  t.strictSame(readOptions(specs, { on: true, n: 4, maybe: 0, s: 9, 'maybe-s': 3, c: 'a', text: 'ok', list: ['x', 'y'] }), {
    on: true,
    n: 4,
    maybe: 0,
    s: 9,
    maybeS: 3,
    c: 'a',
    text: 'ok',
    list: ['X', 'Y'],
  })
  t.strictSame(checked, ['ok'], 'the check runs on a given value only')
  t.strictSame(readOptions(specs, { n: 3, s: 1, list: 'z' }).list, ['Z'], 'one value of a repeatable option')
  t.throws(() => readOptions(specs, { n: 5, s: 1 }), new UsageError('--n: needs an integer from 2 to 4, not "5"'))
  t.throws(() => readOptions(specs, { n: 3, s: 1, maybe: -1 }), new UsageError('--maybe: needs an integer >= 0, not "-1"'))
  t.throws(() => readOptions(specs, { n: 3, s: 1, 'maybe-s': 0 }), new UsageError('--maybe-s: needs a positive number, not "0"'))
  t.throws(() => readOptions(specs, { n: 3, s: 1, text: 'bad' }), new UsageError('--text: bad'))
})

t.test('integerIn, positiveNumber, asList', async (t) => {
  t.equal(integerIn('--x', 5, 5, 5), 5)
  t.equal(integerIn('--x', 0, 0, Infinity), 0)
  // Numbers come as text from the command line (yargs is told they are strings).
  t.equal(integerIn('--x', '5', 0, 9), 5, 'decimal text is a number')
  t.equal(positiveNumber('--x', '.5'), 0.5)
  t.throws(() => integerIn('--x', '0x5', 0, 9), new UsageError('--x: needs an integer from 0 to 9, not "0x5"'), 'only decimal text')
  t.throws(() => integerIn('--x', ['2', '1'], 0, 9), new UsageError('--x: needs an integer from 0 to 9, not "2,1"'), 'a repeat is refused, a repeated 1 too')
  t.throws(() => positiveNumber('--x', '1e3'), new UsageError('--x: needs a positive number, not "1e3"'))
  t.throws(() => integerIn('--x', undefined, 1, Infinity), new UsageError('--x: needs an integer >= 1, not "undefined"'))
  t.throws(() => integerIn('--x', Infinity, 1, Infinity), new UsageError('--x: needs an integer >= 1, not "Infinity"'))
  t.equal(positiveNumber('--d', 0.001), 0.001)
  t.throws(() => positiveNumber('--d', Infinity), new UsageError('--d: needs a positive number, not "Infinity"'))
  t.throws(() => positiveNumber('--d', NaN), new UsageError('--d: needs a positive number, not "NaN"'))
  t.strictSame(asList(undefined), [])
  t.strictSame(asList(0), [0])
  t.strictSame(asList([1, 2]), [1, 2])
})
