// The fast path of argument parsing. Loading yargs and building its parser
// costs ~20 ms at every start, for argv that are nearly always a few plain
// options. This parser knows only the option shapes our tools declare and
// returns what yargs 17 returns for the same argv — the same keys (each alias
// too, `_`, `$0`), values and key order — or null for anything it is not sure
// of; parse-args.ts then asks yargs, which writes every help text and error.
// Its rules follow yargs-parser 21 as yargs 17 configures it for us
// (parse-args.ts: no boolean negation or camel-case keys, repeats make
// arrays); test/unit/fast-args.test.ts checks them against yargs itself.
import type { Options } from 'yargs'

export type ParsedArgv = Record<string, unknown>

interface FastOption {
  key: string
  alias: string | null
  type: 'boolean' | 'string'
  choices: readonly string[] | null
  /** Boxed: a declared `default: undefined` is still a default to yargs. */
  default: { value: unknown } | null
  /** --help, --version: what they print is yargs's to write. */
  decline: boolean
}

export interface FastParser {
  /** What yargs would return for argv, or null: ask yargs. */
  parse(argv: readonly string[]): ParsedArgv | null
}

// Fields that change nothing in what is parsed, or that this parser reads.
// Any other (array, count, coerce, nargs, …) means yargs alone can parse.
const KNOWN_FIELDS = new Set(['type', 'alias', 'choices', 'default', 'requiresArg', 'array', 'describe', 'group'])
// Option names as they can appear after - or --: a single digit is yargs's
// `-4` case (a boolean only), other names start with a letter.
const NAME = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9])$/
// A short group: letters, then the last letter's value when it is a number (`-d0.5`).
const SHORT_GROUP = /^([A-Za-z]+)(\d+(?:\.\d+)?)?$/

/**
 * The fast parser of these options (given as yargs gets them, in the same
 * order: defaults are applied in it), or null when one has a shape it does
 * not know; `decline` are the keys whose use it leaves to yargs.
 */
export function compileFastParser(scriptName: string, groups: ReadonlyArray<Record<string, Options>>, decline: readonly string[]): FastParser | null {
  const names = new Map<string, FastOption>()
  const options: FastOption[] = []
  for (const group of groups) {
    for (const [key, def] of Object.entries(group)) {
      const opt = fastOption(key, def, decline.includes(key))
      if (!opt) return null
      for (const name of opt.alias === null ? [key] : [key, opt.alias]) {
        // A name declared twice merges options in yargs: not ours to guess.
        if (!NAME.test(name) || names.has(name)) return null
        if (/^[0-9]$/.test(name) && opt.type !== 'boolean') return null
        names.set(name, opt)
      }
      options.push(opt)
    }
  }
  return { parse: (argv) => parse(scriptName, names, options, argv) }
}

function fastOption(key: string, def: Options, decline: boolean): FastOption | null {
  if (Object.keys(def).some((field) => !KNOWN_FIELDS.has(field))) return null
  const { type, alias, choices, requiresArg, array } = def
  // Numbers reach yargs as strings (option-spec.ts says why): a number type is yargs's alone.
  if (type !== 'boolean' && type !== 'string') return null
  if (array !== undefined && array !== false) return null
  if (alias !== undefined && typeof alias !== 'string') return null
  // requiresArg makes yargs take the value another way (nargs), but only for
  // values this parser declines anyway: missing, or starting with `-`.
  if (requiresArg !== undefined && (typeof requiresArg !== 'boolean' || type === 'boolean')) return null
  if (choices !== undefined && (type !== 'string' || !Array.isArray(choices) || !choices.every((c) => typeof c === 'string'))) return null
  return {
    key,
    alias: alias ?? null,
    type,
    choices: (choices as string[] | undefined) ?? null,
    default: 'default' in def ? { value: def.default } : null,
    decline,
  }
}

function parse(scriptName: string, names: ReadonlyMap<string, FastOption>, options: readonly FastOption[], argv: readonly string[]): ParsedArgv | null {
  const out: ParsedArgv = { _: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    if (arg === '--') {
      // What follows `--` is positional: yargs's to judge (strict does not).
      if (i === argv.length - 1) break
      return null
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq)
      const opt = names.get(name)
      if (!opt || opt.decline) return null
      let value: unknown
      // `--flag=x` makes the flag x === 'true'; and yargs strips quotes there.
      if (eq >= 0) value = opt.type === 'boolean' ? undefined : parseValue(opt, arg.slice(eq + 1))
      else value = opt.type === 'boolean' ? true : parseValue(opt, argv[++i])
      if (value === undefined) return null
      assign(out, name, opt, value)
      continue
    }
    if (arg.startsWith('-') && arg.length > 1) {
      const body = arg.slice(1)
      // `-4`: yargs takes a lone digit for a boolean of that name, else for a negative number.
      if (/^[0-9]$/.test(body)) {
        const opt = names.get(body)
        if (!opt || opt.decline || opt.type !== 'boolean') return null
        assign(out, body, opt, true)
        continue
      }
      const group = SHORT_GROUP.exec(body)
      if (!group) return null
      const letters = group[1] as string
      const attached = group[2]
      // All letters but the last are booleans: yargs sets each true (`-jq`).
      for (const letter of letters.slice(0, -1)) {
        const opt = names.get(letter)
        if (!opt || opt.decline || opt.type !== 'boolean') return null
        assign(out, letter, opt, true)
      }
      const last = letters.slice(-1)
      const opt = names.get(last)
      if (!opt || opt.decline) return null
      let value: unknown
      if (attached !== undefined) {
        // `-n5` is n=5, but `-n4` is n and the boolean -4 (yargs checks for
        // that), and `-j5` sets json to '5' === 'true'.
        value = opt.type === 'boolean' || names.has(attached) ? undefined : parseValue(opt, attached)
      } else {
        value = opt.type === 'boolean' ? true : parseValue(opt, argv[++i])
      }
      if (value === undefined) return null
      assign(out, last, opt, value)
      continue
    }
    // A positional, `-` or '': yargs's (strict rejects most, not all).
    return null
  }
  for (const opt of options) {
    if (!opt.default || Object.hasOwn(out, opt.key)) continue
    out[opt.key] = opt.default.value
    if (opt.alias !== null && !Object.hasOwn(out, opt.alias)) out[opt.alias] = opt.default.value
  }
  out.$0 = scriptName
  return out
}

/** The value yargs makes of this text, or undefined when it is not plain. */
function parseValue(opt: FastOption, text: string | undefined): string | undefined {
  if (text === undefined) return undefined
  // yargs takes `-x` as the next option or as a (negative number) value
  // depending on the option; it strips quotes from `--opt="x"` only.
  if (/^[-'"]/.test(text)) return undefined
  if (opt.choices && !opt.choices.includes(text)) return undefined
  return text
}

/**
 * Sets the name given, then its other name (yargs's order), a repeat making
 * an array (duplicate-arguments-array) except for booleans.
 */
function assign(out: ParsedArgv, name: string, opt: FastOption, value: unknown): void {
  const other = name === opt.key ? opt.alias : opt.key
  for (const key of other === null ? [name] : [name, other]) {
    const current = Object.hasOwn(out, key) ? out[key] : undefined
    if (Array.isArray(current)) out[key] = [...current, value]
    else if (current !== undefined && opt.type !== 'boolean') out[key] = [current, value]
    else out[key] = value
  }
}
