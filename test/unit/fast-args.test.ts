// The fast path of argument parsing (lib/cli/fast-args.ts) against yargs
// itself: for every argv of a large corpus — each option alone, by each name,
// in each form, with plain and awkward values, repeated, bundled, combined;
// the argv of the tests and of each tool's examples; seeded random argv — when
// the fast path answers, its answer is yargs's (same keys, values, key order).
// Whatever yargs would reject, the fast path must leave to it. And the argv
// people actually run must take the fast path, without loading yargs.
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isDeepStrictEqual } from 'node:util'
import t from 'tap'
import type { Options } from 'yargs'
import { commonOptionDefs } from '../../lib/cli/common-options.js'
import { compileFastParser } from '../../lib/cli/fast-args.js'
import { yargsOptions } from '../../lib/cli/option-spec.js'
import { buildParser, parseArgs, parseArgsFast } from '../../lib/cli/parse-args.js'
import { dropwatch } from '../../lib/tools/dropwatch.js'
import { tcpdrop } from '../../lib/tools/tcpdrop.js'
import { tcpretrans } from '../../lib/tools/tcpretrans.js'
import type { ToolDefinition } from '../../lib/tools/tool.js'
import { ROOT } from '../lib/run-cli.js'

const TOOLS: Array<ToolDefinition<unknown>> = [tcpdrop, tcpretrans, dropwatch] as Array<ToolDefinition<unknown>>

const cjsCache = createRequire(import.meta.url).cache
const yargsLoaded = () => Object.keys(cjsCache).some((path) => /[\\/]node_modules[\\/]yargs(-parser)?[\\/]/.test(path))

// First, before anything here asks yargs.
t.test('a usual start parses its arguments without loading yargs', async (t) => {
  t.notOk(yargsLoaded(), 'importing the CLI does not load yargs')
  for (const tool of TOOLS) {
    const parsed = await parseArgs(tool, ['-B', 'bpf', '-d', '0.2', '-j'])
    t.equal(parsed.kind, 'run', tool.name)
  }
  t.notOk(yargsLoaded(), 'parsing usual argv does not load yargs')
  const help = await parseArgs(tcpdrop, ['--help'])
  t.equal(help.kind, 'printed', '--help is yargs\'s')
  t.ok(yargsLoaded(), 'the fallback loads it (so the checks above could see it)')
})

type YargsAnswer = { ok: true; args: Record<string, unknown> } | { ok: false; error: string }

const answers = new Map<string, YargsAnswer>()

/** What yargs makes of argv (once per argv: the corpus repeats some). */
function askYargs(tool: ToolDefinition<unknown>, argv: string[]): YargsAnswer {
  const id = JSON.stringify([tool.name, argv])
  let answer = answers.get(id)
  if (!answer) {
    try {
      answer = { ok: true, args: buildParser(tool, argv).parseSync() as Record<string, unknown> }
    } catch (err) {
      answer = { ok: false, error: String(err) }
    }
    answers.set(id, answer)
  }
  return answer
}

interface Verdict {
  accepted: string[][]
  declined: string[][]
  /** Answers that differ from yargs's: must stay empty. */
  wrong: string[]
}

/** Runs each argv through both parsers. */
function compare(tool: ToolDefinition<unknown>, corpus: string[][]): Verdict {
  const v: Verdict = { accepted: [], declined: [], wrong: [] }
  for (const argv of corpus) {
    const fast = parseArgsFast(tool, argv)
    if (fast === null) {
      v.declined.push(argv)
      continue
    }
    v.accepted.push(argv)
    const y = askYargs(tool, argv)
    const show = `${tool.name} ${JSON.stringify(argv)}: fast ${JSON.stringify(fast)}`
    if (!y.ok) v.wrong.push(`${show}, yargs: ${y.error}`)
    else if (!isDeepStrictEqual(fast, y.args) || !isDeepStrictEqual(Object.keys(fast), Object.keys(y.args))) v.wrong.push(`${show}, yargs ${JSON.stringify(y.args)}`)
  }
  return v
}

/** The options as yargs gets them (not as the fast path reads them: the corpus is made from the declarations). */
function declared(tool: ToolDefinition<unknown>): Array<[string, Options]> {
  return Object.entries({ ...commonOptionDefs(tool.perEventTool), ...yargsOptions(tool.options) })
}

const NUMBERS = ['0', '1', '2', '5', '0.2', '0.5', '10', '64', '443', '65535', '1000000', '007', '1.50', '99999999999999999999']
// Values yargs coerces its own way or may take for an option: the fast path must leave them to it.
const AWKWARD_NUMBERS = ['', '-1', '-0.5', '0x10', '1e3', 'NaN', 'Infinity', ' 5', '5 ', '.5', '5.', '+5', 'abc', '1_000', '1,5', 'true', '4', '6']
const STRINGS = ['10.0.0.1', '::1', 'fd00::1', 'NO_SOCKET', 'no_socket', 'SKB_DROP_REASON_TCP_CSUM', '/proc/self/ns/net', '/run/netns/docs-r', 'docs-r', '127.0.0.1:9464', '9464', '1', 'true', 'false', 'a b', 'j', 'x=y', '']
const AWKWARD_STRINGS = ['"quoted"', "'q'", '"', '-x', '-1', '-', '--', '--json', '-j']
const BOOLEAN_VALUES = ['true', 'false', 'x', '5', '1', '']

/** Each option alone: by each name, in each form, with plain and awkward values, missing or repeated. */
function singles(tool: ToolDefinition<unknown>): string[][] {
  const out: string[][] = []
  for (const [key, def] of declared(tool)) {
    const names = [key, ...(def.alias === undefined ? [] : [def.alias].flat())]
    for (const name of names) {
      const dash = name.length === 1 ? [`-${name}`, `--${name}`] : [`--${name}`]
      if (def.type === 'boolean') {
        for (const d of dash) {
          out.push([d], [d, d], [d, '--'], [d, '--', 'x'])
          for (const v of BOOLEAN_VALUES) out.push([`${d}=${v}`], [d, v])
        }
        continue
      }
      const values = def.choices ? [...(def.choices as string[]), 'nope', 'BPF', '', '"bpf"', 'true', '1'] : def.type === 'number' ? [...NUMBERS, ...AWKWARD_NUMBERS] : [...STRINGS, ...AWKWARD_STRINGS]
      for (const d of dash) {
        out.push([d], [d, '-j'], [d, '--'], [d, '-4'])
        for (const v of values) {
          out.push([d, v], [`${d}=${v}`], [d, v, '-j'], [d, v, d, v])
          if (d.length === 2) out.push([`${d}${v}`], [`-j${name}${v}`], [`-j${name}`, v])
        }
      }
    }
  }
  return out
}

/** One plain argv per option, to combine. */
function fragments(tool: ToolDefinition<unknown>): string[][] {
  const out: string[][] = []
  for (const [key, def] of declared(tool)) {
    const short = typeof def.alias === 'string' && def.alias.length === 1 ? `-${def.alias}` : null
    if (def.type === 'boolean') {
      out.push([`--${key}`])
      if (short) out.push([short])
      continue
    }
    const value = def.choices ? (def.choices as string[])[1] ?? '' : def.type === 'number' ? '5' : key === 'addr' ? '10.0.0.1' : 'NO_SOCKET'
    out.push([`--${key}`, value], [`--${key}=${value}`])
    if (short) out.push([short, value])
  }
  return out
}

/** Every ordered pair of fragments (so each option with each other, and with itself: repeats). */
function pairs(tool: ToolDefinition<unknown>): string[][] {
  const f = fragments(tool)
  return f.flatMap((a) => f.map((b) => [...a, ...b]))
}

/** Short options bundled: every ordered pair and some triples of single letters, then value letters last. */
function bundles(tool: ToolDefinition<unknown>): string[][] {
  const letters = declared(tool).flatMap(([key, def]) => [key, def.alias].filter((n): n is string => typeof n === 'string' && n.length === 1))
  const out: string[][] = []
  for (const a of [...letters, 'h', 'V', 'x']) {
    for (const b of [...letters, 'h', 'V', 'x']) {
      out.push([`-${a}${b}`], [`-${a}${b}`, '5'], [`-${a}${b}`, 'bpf'], [`-${a}${b}5`], [`-${a}${b}0.5`], [`-${a}${b}4`], [`-${a}${b}`, 'true'])
      for (const c of letters) out.push([`-${a}${b}${c}`, '1'])
    }
  }
  out.push(['-46'], ['-4.5'], ['-j4'], ['-4j'], ['-j=1'], ['-d=1'], ['-d.5'], ['-d-1'], ['-j-'], ['-jq-'], ['-B-'], ['-Bbpf'], ['-d1e3'], ['-d0x10'])
  return out
}

/** Repeatable filters and repeats in general, including yargs-parser's count step for a value of 1. */
const REPEATS: string[][] = [
  ['--port', '80', '--port', '443'],
  ['--port', '80', '--port', '443', '--port', '8080'],
  ['--port=80', '--port', '443', '--port=8080', '--port', '22'],
  ['--port', '1'],
  ['--port', '1', '--port', '80'],
  ['--port', '80', '--port', '1'],
  ['--port', '80', '--port', '443', '--port', '1'],
  ['--port', '1', '--port', '1'],
  ['--addr', '10.0.0.1', '--addr', '::1'],
  ['--addr', '10.0.0.1', '--addr', '::1', '--addr=fd00::2'],
  ['--addr', '1', '--addr', '1'],
  ['--reason', 'NO_SOCKET', '--reason', 'TCP_CSUM'],
  ['--reason', 'a', '--reason', 'b', '--reason', 'c', '--reason', 'd'],
  ['-d', '1', '-d', '2'],
  ['-d', '2', '--duration', '1'],
  ['-d', '2', '--duration', '3', '-d', '4'],
  ['-n', '5', '-n', '5'],
  ['-B', 'bpf', '--backend', 'ftrace'],
  ['-B', 'bpf', '--backend', 'nope'],
  ['--hook-type', 'kprobe', '--hook-type', 'tracepoint'],
  ['-j', '-j', '--json'],
  ['-4', '-4', '-6'],
  ['--buffer-kb', '64', '--buffer-kb', '128'],
  ['--rate-limit', '0', '--rate-limit', '0'],
  ['-i', '1', '-i', '2'],
  ['-i', '2', '--interval', '1'],
  ['--by', 'dev', '--by', 'reason'],
  ['--top', '3', '--top', '1'],
  ['--stack-depth', '4', '--stack-depth', '32'],
  ['--netns', 'a', '--netns', 'b'],
  ['--prometheus', '9464', '--prometheus', '127.0.0.1:9465'],
  [],
  ['--'],
  ['--', '--'],
  ['-j', '--'],
  ['--', '-j'],
  ['-', '-j'],
  [''],
  ['---json'],
  ['---'],
  ['--=x'],
  ['--no-json'],
  ['--noStack'],
  ['--no-stack'],
  ['--Json'],
  ['--constructor'],
  ['--__proto__', '1'],
  ['--toString'],
  ['--json\nx'],
  ['--port=80=81'],
  ['--port', '80\n'],
]

/** The argv our tests run the tools with: literal argv arrays in test/ (`startCli('tool', [...])`, `['tool', [...], …]` tables). */
function testArgv(): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = []
  const files = readdirSync(`${ROOT}test`, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.test.ts') && !f.endsWith('fast-args.test.ts'))
  for (const file of files) {
    const src = readFileSync(`${ROOT}test/${file}`, 'utf8')
    for (const m of src.matchAll(/(?:(?:startCli|runCli)\(\s*|\[\s*)'(tcpdrop|tcpretrans|dropwatch)',\s*\[([^\]]*)\]/g)) {
      const items = arrayItems(m[2] as string)
      if (items) out.push([m[1] as string, items])
    }
  }
  return out
}

/** The strings of a literal array's source; an expression stands for a number (ports), a spread for what cannot be known (null). */
function arrayItems(src: string): string[] | null {
  const items: string[] = []
  for (const [item] of src.matchAll(/'[^']*'|"[^"]*"|`[^`]*`|[^,\s][^,]*/g)) {
    if (item.startsWith('...')) return null
    if (/^['"`]/.test(item)) items.push(item.slice(1, -1).replace(/\$\{[^}]*\}/g, '9001'))
    else items.push('9001')
  }
  return items
}

// What the spread argv of the tests make (tcpdrop-ftrace, tcpretrans-bpf, tcpdrop-kernel-counters).
const SPREAD_TEST_ARGV: Array<[string, string[]]> = [
  ['tcpdrop', ['-B', 'ftrace', '-j', '--no-stack', '--rate-limit', '0', '--port', '5201']],
  ['tcpdrop', ['-B', 'bpf', '-j', '--no-stack', '--rate-limit', '0', '--port', '5201']],
  ['tcpretrans', ['-B', 'bpf', '-j', '--rate-limit', '0', '--addr', '10.0.0.1', '--seq']],
  ['tcpretrans', ['-B', 'ftrace', '-j', '--rate-limit', '0', '--addr', '10.0.0.1']],
  ['tcpdrop', ['-j', '--no-stack', '--rate-limit', '0', '-B', 'bpf', '--netns', '/run/netns/r', '--port', '5201']],
  ['tcpdrop', ['--no-stack', '--rate-limit', '0', '-B', 'bpf', '--netns', '/run/netns/r', '--port', '5201']],
]

/** Each tool's examples: its --help examples and the command lines of examples/<tool>_example.txt. */
function exampleArgv(tool: ToolDefinition<unknown>): string[][] {
  const out = tool.examples.map(([cmd]) => cmd.split(/\s+/).slice(1))
  const text = readFileSync(`${ROOT}examples/${tool.name}_example.txt`, 'utf8')
  for (const m of text.matchAll(new RegExp(`^# ${tool.name}(?=\\s|$)([^|\\n]*)`, 'gm'))) out.push((m[1] as string).trim().split(/\s+/).filter(Boolean))
  return out
}

/** Seeded random argv from the tokens of the corpus above (mulberry32: the same argv every run). */
function randomArgv(tool: ToolDefinition<unknown>, count: number, seed: number): string[][] {
  let s = seed
  const random = () => {
    s = (s + 0x6d2b79f5) | 0
    let x = Math.imul(s ^ (s >>> 15), 1 | s)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
  const f = fragments(tool)
  const tokens = [...new Set([...singles(tool), ...bundles(tool), ...REPEATS].flat())]
  const out: string[][] = []
  for (let i = 0; i < count; i++) {
    const argv: string[] = []
    const n = 1 + Math.floor(random() * 6)
    // Mostly plain fragments (so many are accepted), sometimes any token.
    for (let j = 0; j < n; j++) argv.push(...(random() < 0.75 ? (f[Math.floor(random() * f.length)] as string[]) : [tokens[Math.floor(random() * tokens.length)] as string]))
    out.push(argv)
  }
  return out
}

const harvested = [...testArgv(), ...SPREAD_TEST_ARGV]

t.test('the argv of the tests were found', async (t) => {
  t.ok(harvested.length >= 60, `${harvested.length} argv from test/`)
})

let corpusSize = 0
for (const tool of TOOLS) {
  t.test(`${tool.name}: whenever the fast path answers, it answers what yargs does`, async (t) => {
    const fromTests = harvested.filter(([name]) => name === tool.name).map(([, argv]) => argv)
    const corpus = [...singles(tool), ...pairs(tool), ...bundles(tool), ...REPEATS, ...fromTests, ...exampleArgv(tool), ...randomArgv(tool, 1500, 0x5eed + tool.name.length)]
    corpusSize += corpus.length
    const v = compare(tool, corpus)
    t.strictSame(v.wrong, [], 'no answer differs from yargs')
    // Vacuous unless it does answer, often.
    t.ok(v.accepted.length > corpus.length / 4, `answers ${v.accepted.length} of ${corpus.length} argv, leaves ${v.declined.length} to yargs`)
  })
}

t.test('the argv people run take the fast path', async (t) => {
  for (const tool of TOOLS) {
    const usual = [...harvested.filter(([name]) => name === tool.name).map(([, argv]) => argv), ...exampleArgv(tool), ...fragments(tool), ...pairs(tool)]
    // All that yargs parses cleanly: no error, no NaN, no positional, no --help or --version (yargs's to print),
    // no negative number (every option refuses them, after parsing: cli-usage.test.ts).
    const clean = usual.filter((argv) => {
      if (argv.some((a) => /^-\d/.test(a) && a !== '-4' && a !== '-6')) return false
      const y = askYargs(tool, argv)
      return y.ok && (y.args._ as unknown[]).length === 0 && !y.args.help && !y.args.version && !Object.values(y.args).flat().some((x) => Number.isNaN(x))
    })
    const v = compare(tool, clean)
    t.strictSame(v.declined, [], `${tool.name}: all ${clean.length} answered (${usual.length - clean.length} left out)`)
    t.strictSame(v.wrong, [], `${tool.name}: as yargs does`)
  }
})

// Each must be left to yargs: what yargs writes (help, errors) or values it coerces its own way.
const DECLINED: Array<[ToolDefinition<unknown>, string[]]> = [
  [tcpdrop, ['--help']],
  [tcpdrop, ['-h']],
  [tcpdrop, ['-jh']],
  [tcpdrop, ['--help=false']],
  [tcpdrop, ['--version']],
  [tcpretrans, ['-V']],
  [tcpretrans, ['-lV']],
  [tcpretrans, ['--bogus']],
  [tcpretrans, ['extra']],
  [tcpretrans, ['-j', 'extra']],
  [tcpretrans, ['--', 'extra']],
  [tcpretrans, ['-']],
  [tcpretrans, ['']],
  [tcpdrop, ['--seq']],
  [tcpretrans, ['--owner']],
  [dropwatch, ['--rate-limit', '5']],
  [tcpdrop, ['-x']],
  [tcpdrop, ['-jx']],
  [tcpdrop, ['--port']],
  [tcpdrop, ['--port', '-j']],
  [tcpdrop, ['--port', '-1']],
  [tcpretrans, ['-d']],
  [tcpretrans, ['-d', '-3']],
  [tcpretrans, ['-n4']],
  [tcpretrans, ['-j5']],
  [tcpretrans, ['-46']],
  [tcpretrans, ['-d=1']],
  [tcpretrans, ['-nj', '5']],
  [tcpretrans, ['--backend']],
  [tcpretrans, ['--backend', '-j']],
  [tcpretrans, ['--backend', 'dtrace']],
  [tcpretrans, ['-B', '"bpf"']],
  [tcpretrans, ['--backend="bpf"']],
  [tcpretrans, ['-Bbpf']],
  [tcpretrans, ['--hook-type', 'uprobe']],
  [dropwatch, ['--by', 'colour']],
  [tcpretrans, ['--json=true']],
  [tcpretrans, ['--json', 'false']],
  [tcpretrans, ['-j', 'true']],
  [tcpretrans, ['--no-json']],
  [tcpdrop, ['--noStack']],
  [tcpretrans, ['---json']],
  [tcpdrop, ['--addr', '-x']],
  [tcpdrop, ['--addr', '"10.0.0.1"']],
  [tcpdrop, ['--reason', '-']],
]

t.test('left to yargs', async (t) => {
  for (const [tool, argv] of DECLINED) t.equal(parseArgsFast(tool, argv), null, `${tool.name} ${JSON.stringify(argv)}`)
})

t.test('parseArgs: the fast answer, or yargs\'s', async (t) => {
  const argv = ['-B', 'bpf', '-j', '--port', '80', '--port=443', '-4', '--reason', 'NO_SOCKET', '-d0.5']
  t.strictSame(await parseArgs(tcpdrop, argv), { kind: 'run', args: buildParser(tcpdrop, argv).parseSync() })
  // --port is a string to yargs too, so a port 1 is not a count step (5 + 1).
  t.strictSame(await parseArgs(tcpdrop, ['--port', '5', '--port', '1']), { kind: 'run', args: buildParser(tcpdrop, ['--port', '5', '--port', '1']).parseSync() })
  t.match(await parseArgs(tcpdrop, ['--port', '5', '--port', '1']), { args: { port: ['5', '1'] } })
  // Numbers are strings to yargs too: a repeated 1 is a repeat (refused later, as
  // any repeat of -d), not yargs-parser's count step 2 + 1, on either path.
  t.match(await parseArgs(tcpretrans, ['-d', '2', '-d', '1']), { args: { duration: ['2', '1'], d: ['2', '1'] } })
  t.match(await parseArgs(tcpretrans, ['-d', '2', '-d', '1', '-d', '0x1']), { args: { duration: ['2', '1', '0x1'] } })
  t.match(await parseArgs(tcpretrans, ['-V']), { kind: 'printed', text: /^tcpretrans \(netdrop-tools\) / })
  await t.rejects(parseArgs(tcpretrans, ['--bogus']), { message: 'Unknown argument: bogus' }, 'errors are yargs\'s')
})

t.test('option shapes the fast path does not know turn it off', async (t) => {
  for (const tool of TOOLS) t.ok(parseArgsFast(tool, []), `${tool.name}: on`)
  const off: Array<[string, Record<string, Options>]> = [
    ['an array', { x: { type: 'array' } }],
    ['array: true', { x: { type: 'string', array: true } }],
    ['a count', { v: { type: 'count' } }],
    ['nargs', { x: { type: 'string', nargs: 2 } }],
    ['coerce', { x: { type: 'string', coerce: String } }],
    ['no type', { x: { describe: 'x' } }],
    ['two aliases', { x: { type: 'boolean', alias: ['y', 'z'] } }],
    ['a name twice', { x: { type: 'boolean', alias: 'y' }, y: { type: 'boolean' } }],
    ['a digit that is not a boolean', { '5': { type: 'number' } }],
    ['a dotted name', { 'a.b': { type: 'string' } }],
    ['numeric choices', { x: { type: 'number', choices: [1, 2] } }],
    ['a boolean that requires an argument', { x: { type: 'boolean', requiresArg: true } }],
  ]
  for (const [what, defs] of off) t.equal(compileFastParser('x', [defs], []), null, what)
})

t.test('corpus size', async (t) => {
  t.ok(corpusSize > 10000, `${corpusSize} argv compared`)
})
