// A tool's options, declared once: the flag, its help (yargs), and how its
// parsed value is read and checked. A tool's typed options are the values of
// its specs (OptionValues), so outputs and requests never parse yargs again.
import type { Options } from 'yargs'
import { UsageError } from '../errors.js'

export interface OptionSpec<T> {
  /** The flag without dashes, as yargs knows it. */
  flag: string
  yargs: Options
  /** The checked value (throws UsageError, exit 2). */
  read(raw: unknown): T
}

/** The specs of a typed options object, one per property, in help order. */
export type OptionSpecs<O> = { [K in keyof O]: OptionSpec<O[K]> }

type Help = Omit<Options, 'type'>

/** yargs definitions keyed by flag, in declaration order (the --help order). */
export function yargsOptions<O>(specs: OptionSpecs<O>): Record<string, Options> {
  const out: Record<string, Options> = {}
  for (const spec of Object.values(specs) as Array<OptionSpec<unknown>>) out[spec.flag] = spec.yargs
  return out
}

/** Reads every option of a tool from the parsed arguments. */
export function readOptions<O>(specs: OptionSpecs<O>, args: Record<string, unknown>): O {
  const out: Record<string, unknown> = {}
  for (const [key, spec] of Object.entries(specs) as Array<[string, OptionSpec<unknown>]>) out[key] = spec.read(args[spec.flag])
  return out as O
}

// Numeric options reach yargs as strings and are read here: yargs-parser takes
// a number 1 given again for a count step (`-d 2 -d 1` gave 3, `--port 5 --port 1`
// port 6). Decimal text only; a default is already a number; anything else
// (a repeat's list, '0x10', 'abc') stays as given, for the message.
const DECIMAL = /^(?:\d+\.?\d*|\.\d+)$/

function numeric(v: unknown): unknown {
  return typeof v === 'string' && DECIMAL.test(v) ? Number(v) : v
}

export function integerIn(name: string, given: unknown, min: number, max: number): number {
  const v = numeric(given)
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    const range = max === Infinity ? `>= ${min}` : `from ${min} to ${max}`
    throw new UsageError(`${name}: needs an integer ${range}, not "${String(v)}"`)
  }
  return v
}

export function positiveNumber(name: string, given: unknown): number {
  const v = numeric(given)
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new UsageError(`${name}: needs a positive number, not "${String(v)}"`)
  return v
}

/** The values of a repeatable option (yargs gives one value or an array). */
export function asList(v: unknown): unknown[] {
  if (v === undefined) return []
  return Array.isArray(v) ? v : [v]
}

/** How yargs is told of an option that takes a value: as text, numbers too
 *  (read by integerIn/positiveNumber above). */
function valueOption(help: Help): Options {
  return { requiresArg: true, ...help, type: 'string' }
}

export function flag(name: string, help: Help): OptionSpec<boolean> {
  return { flag: name, yargs: { ...help, type: 'boolean' }, read: (v) => Boolean(v) }
}

/** An integer with a default, checked against [min, max]. */
export function integer(name: string, range: { min: number; max?: number }, help: Help & { default: number }): OptionSpec<number> {
  return { flag: name, yargs: valueOption(help), read: (v) => integerIn(`--${name}`, v, range.min, range.max ?? Infinity) }
}

/** An integer that may be absent (null). */
export function optionalInteger(name: string, range: { min: number; max?: number }, help: Help): OptionSpec<number | null> {
  return {
    flag: name,
    yargs: valueOption(help),
    read: (v) => (v === undefined ? null : integerIn(`--${name}`, v, range.min, range.max ?? Infinity)),
  }
}

export function seconds(name: string, help: Help & { default: number }): OptionSpec<number> {
  return { flag: name, yargs: valueOption(help), read: (v) => positiveNumber(`--${name}`, v) }
}

export function optionalSeconds(name: string, help: Help): OptionSpec<number | null> {
  return { flag: name, yargs: valueOption(help), read: (v) => (v === undefined ? null : positiveNumber(`--${name}`, v)) }
}

export function choice<T extends string>(name: string, choices: readonly T[], help: Help & { default: T }): OptionSpec<T> {
  return { flag: name, yargs: { ...help, type: 'string', choices: [...choices] }, read: (v) => v as T }
}

/** A string that may be absent (null), checked by `check` (which may throw UsageError). */
export function optionalText(name: string, help: Help, check: (text: string) => void = () => {}): OptionSpec<string | null> {
  return {
    flag: name,
    yargs: valueOption(help),
    read: (v) => {
      if (v === undefined) return null
      check(String(v))
      return String(v)
    },
  }
}

/** A repeatable string, each value mapped (and checked) by `each`. */
export function textList(name: string, help: Help, each: (text: string) => string): OptionSpec<string[]> {
  return { flag: name, yargs: valueOption(help), read: (v) => asList(v).map((x) => each(String(x))) }
}
