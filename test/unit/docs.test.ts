// Documentation drift (STYLE §7.4): what the man pages and example files say
// about options must be what the tools accept.
// - every man/man8/<tool>.8 renders without a groff warning;
// - its OPTIONS section lists exactly the options `<tool> --help` lists (long
//   options, short-only options such as -4/-6, and which short alias goes with
//   which long option), and its SYNOPSIS names no option --help does not list;
// - every examples/<tool>_example.txt ends with the current --help output
//   under a `USAGE message:` heading.
// Needs a built dist/ (npm run build), like every test that runs a tool.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import t from 'tap'
import { binPath, ROOT, runCli } from '../lib/run-cli.js'

// yargs translates its own words ("[boolean]", "Examples:", error texts) from
// LC_ALL/LANG; the example files show the English help, so compare with that.
process.env.LC_ALL = 'C'

const MAN_DIR = `${ROOT}man/man8/`
const EXAMPLES_DIR = `${ROOT}examples/`
const USAGE_HEADING = 'USAGE message:'

interface OptionEntry {
  /** e.g. ['-B'] or ['-4'] */
  shorts: string[]
  /** e.g. ['--backend'] */
  longs: string[]
}

const FLAG_RE = /(?<![\w-])--?[A-Za-z0-9][\w-]*/g

/** The option column of yargs' help: `  -B, --backend`, `      --port`, `  -4`.
 *  Continuation lines of wrapped descriptions are indented further and skipped. */
function helpOptions(help: string): OptionEntry[] {
  const entries: OptionEntry[] = []
  for (const line of help.split('\n')) {
    const m = /^ {2}(?: {4})?(-\S+(?:, -\S+)*)(?: {2,}|$)/.exec(line)
    if (!m) continue
    const flags = (m[1] ?? '').split(', ')
    if (!flags.every((f) => /^--?[A-Za-z0-9][\w-]*$/.test(f))) continue
    entries.push(split(flags))
  }
  return entries
}

/** Roff source text → plain text: font escapes dropped, `\-` → `-`. */
function unroff(line: string): string {
  return line
    .replace(/^\.(?:B|I|BR|BI|IB|RB|IR|RI)\s+/, '')
    .replace(/\\f(?:\[[^\]]*\]|\(..|.)/g, '')
    .replace(/\\-/g, '-')
    .replace(/\\&|\\\//g, '')
    .replace(/"/g, '')
}

/** The lines of one `.SH NAME` section (without the heading), or null. */
function manSection(src: string, name: string): string[] | null {
  const lines = src.split('\n')
  const start = lines.findIndex((l) => new RegExp(`^\\.SH\\s+"?${name}"?\\s*$`).test(l))
  if (start < 0) return null
  const rest = lines.slice(start + 1)
  const end = rest.findIndex((l) => /^\.SH\b/.test(l))
  return end < 0 ? rest : rest.slice(0, end)
}

/** The options of the OPTIONS section: the tag line of every `.TP`. */
function manOptions(src: string): OptionEntry[] | null {
  const lines = manSection(src, 'OPTIONS')
  if (!lines) return null
  const entries: OptionEntry[] = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^\.TP\b/.test(lines[i] ?? '')) continue
    let j = i + 1
    while (j < lines.length && /^\.\\"/.test(lines[j] ?? '')) j++ // comments
    const flags = unroff(lines[j] ?? '').match(FLAG_RE) ?? []
    entries.push(split(flags))
  }
  return entries
}

/** Every flag the SYNOPSIS mentions. */
function synopsisFlags(src: string): string[] {
  const lines = manSection(src, 'SYNOPSIS') ?? []
  return [...new Set(lines.filter((l) => !/^\.\\"/.test(l)).flatMap((l) => unroff(l).match(FLAG_RE) ?? []))]
}

function split(flags: string[]): OptionEntry {
  return { shorts: flags.filter((f) => !f.startsWith('--')), longs: flags.filter((f) => f.startsWith('--')) }
}

const sorted = (a: Iterable<string>) => [...a].sort()

const helpCache = new Map<string, string>()
function helpOf(tool: string): string {
  let h = helpCache.get(tool)
  if (h === undefined) {
    const r = runCli(tool, ['--help'])
    if (r.code !== 0) throw new Error(`${tool} --help exited ${r.code}: ${r.stderr.trim()}`)
    h = r.stdout
    helpCache.set(tool, h)
  }
  return h
}

t.test('the parsers read what they should', async (t) => {
  const help = [
    'Filters:',
    '  -4           IPv4 only (wire family)                      [boolean]',
    '      --port   local or remote port PORT (repeatable)        [number]',
    '  -s, --stack      print the kernel stack (bcc uses -s for sequence numbers: see',
    '                   --seq)                                     [boolean]',
    'Examples:',
    '  tcpretrans -c -d 10         count retransmits per flow',
  ].join('\n')
  t.same(helpOptions(help), [
    { shorts: ['-4'], longs: [] },
    { shorts: [], longs: ['--port'] },
    { shorts: ['-s'], longs: ['--stack'] },
  ])
  const man = [
    '.SH SYNOPSIS',
    '.B tcpretrans',
    '[\\-c [\\-i \\fISECONDS\\fR]] [\\-\\-port \\fIPORT\\fR]',
    '.SH OPTIONS',
    '.TP',
    '\\fB\\-B\\fR, \\fB\\-\\-backend\\fR \\fIauto\\fR|\\fIbpf\\fR',
    'Choose the backend; see also \\fB\\-\\-list\\-backends\\fR.',
    '.TP',
    '.B \\-4',
    'IPv4 only.',
    '.SH EXIT STATUS',
    '.TP',
    '.B \\-\\-not\\-an\\-option',
  ].join('\n')
  t.same(manOptions(man), [
    { shorts: ['-B'], longs: ['--backend'] },
    { shorts: ['-4'], longs: [] },
  ])
  t.same(synopsisFlags(man), ['-c', '-i', '--port'])
})

const manPages = existsSync(MAN_DIR) ? readdirSync(MAN_DIR).filter((f) => f.endsWith('.8')).sort() : []

t.test('package.json ships man pages that exist', async (t) => {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { man?: string[] }
  for (const page of pkg.man ?? []) t.ok(existsSync(`${ROOT}${page}`), `${page} exists`)
  t.ok(manPages.length > 0, 'man/man8 has at least one page')
})

const groff = spawnSync('groff', ['--version'], { encoding: 'utf8' })
const noGroff = groff.error ? `groff is not installed (${(groff.error as NodeJS.ErrnoException).code}); apt-get install groff` : false

for (const page of manPages) {
  const tool = page.slice(0, -'.8'.length)
  const path = `${MAN_DIR}${page}`
  const src = readFileSync(path, 'utf8')

  t.test(`man8/${page}: groff -ww -man -z prints nothing`, { skip: noGroff }, async (t) => {
    const r = spawnSync('groff', ['-ww', '-man', '-z', path], { encoding: 'utf8', timeout: 20000 })
    t.equal(r.status, 0, 'exit 0')
    t.equal(`${r.stdout}${r.stderr}`, '', 'no warnings or errors')
  })

  t.test(`man8/${page}: OPTIONS lists exactly the options of ${tool} --help`, async (t) => {
    if (!existsSync(binPath(tool))) {
      t.fail(`no bin/${tool}.js for man page ${page}`)
      return
    }
    const fromHelp = helpOptions(helpOf(tool))
    t.ok(fromHelp.length > 0, `parsed ${fromHelp.length} options from --help`)
    const fromMan = manOptions(src)
    if (!fromMan) {
      t.fail('no .SH OPTIONS section')
      return
    }
    const helpLongs = new Set(fromHelp.flatMap((e) => e.longs))
    const manLongs = fromMan.flatMap((e) => e.longs)
    t.same(sorted(new Set(manLongs)), sorted(helpLongs), 'long options: man OPTIONS == --help')
    t.same(
      manLongs.filter((o, i) => manLongs.indexOf(o) !== i),
      [],
      'no long option listed twice',
    )
    const shortOnly = (es: OptionEntry[]) => sorted(new Set(es.filter((e) => e.longs.length === 0).flatMap((e) => e.shorts)))
    t.same(shortOnly(fromMan), shortOnly(fromHelp), 'options without a long form (-4, -6): man == --help')
    for (const h of fromHelp) {
      for (const long of h.longs) {
        const m = fromMan.find((e) => e.longs.includes(long))
        if (!m) continue // reported above
        t.same(sorted(m.shorts), sorted(h.shorts), `${long}: short aliases ${h.shorts.join(', ') || '(none)'}`)
      }
    }
  })

  t.test(`man8/${page}: SYNOPSIS names only options --help lists`, async (t) => {
    if (!existsSync(binPath(tool))) return
    const known = new Set(helpOptions(helpOf(tool)).flatMap((e) => [...e.shorts, ...e.longs]))
    const flags = synopsisFlags(src)
    t.ok(flags.length > 0, `SYNOPSIS names ${flags.length} options`)
    t.same(
      flags.filter((f) => !known.has(f)),
      [],
      'no unknown option in SYNOPSIS',
    )
  })
}

const exampleFiles = existsSync(EXAMPLES_DIR) ? readdirSync(EXAMPLES_DIR).filter((f) => /^[a-z0-9-]+_example\.txt$/.test(f)).sort() : []

for (const file of exampleFiles) {
  const tool = file.slice(0, -'_example.txt'.length)
  t.test(`examples/${file}: the text after "${USAGE_HEADING}" is the current ${tool} --help`, async (t) => {
    if (!existsSync(binPath(tool))) {
      t.fail(`no bin/${tool}.js for ${file}`)
      return
    }
    const text = readFileSync(`${EXAMPLES_DIR}${file}`, 'utf8')
    const lines = text.split('\n')
    const at = lines.findIndex((l) => l.trimEnd() === USAGE_HEADING)
    if (at < 0) {
      t.fail(`no "${USAGE_HEADING}" line`)
      return
    }
    t.equal(lines.filter((l) => l.trimEnd() === USAGE_HEADING).length, 1, 'one USAGE heading')
    const usage = lines.slice(at + 1).join('\n').replace(/^\n+/, '').trimEnd()
    t.equal(usage, helpOf(tool).trimEnd(), 'USAGE block == --help')
  })
}
