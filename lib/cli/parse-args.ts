// Builds the yargs parser of one tool from the common options plus the tool's
// own, in the style of bcc tools: description, options, then examples.
// parseArgs() tries the fast path (fast-args.ts) first: most runs never load yargs.
import { createRequire } from 'node:module'
import type { default as yargsFactory, Options } from 'yargs'
import { UsageError } from '../errors.js'
import type { ToolDefinition } from '../tools/tool.js'
import { yargsOptions } from './option-spec.js'
import { commonOptionDefs } from './common-options.js'
import { compileFastParser } from './fast-args.js'
import { VERSION } from './version.js'

// yargs 17's CommonJS build is one bundled file and loads in ~13 ms; its ESM
// entry (and yargs 18, ESM only) pulls in a module graph that costs ~50 ms at
// every start, a third of the start-up budget. Even so it is loaded only when
// needed: for --help, --version, errors and argv the fast path is unsure of.
let yargsFactoryLoaded: typeof yargsFactory | undefined
function loadYargs(): typeof yargsFactory {
  yargsFactoryLoaded ??= createRequire(import.meta.url)('yargs/yargs') as typeof yargsFactory
  return yargsFactoryLoaded
}

export type ToolArgs = Record<string, unknown>

export type ParsedArgs = { kind: 'run'; args: ToolArgs } | { kind: 'printed'; text: string }

// Ours to handle (help(false), version(false)): parseArgs prints them.
const BUILTIN_OPTIONS: Record<string, Options> = {
  help: { alias: 'h', type: 'boolean', describe: 'show this help' },
  version: { alias: 'V', type: 'boolean', describe: 'show the version' },
}

/** Every option of the tool, in the order yargs is given them (the fast path
 *  needs it: defaults follow it; so does --help, and the completions). */
export function optionGroups<O>(tool: ToolDefinition<O>): [common: Record<string, Options>, own: Record<string, Options>, builtin: Record<string, Options>] {
  return [commonOptionDefs(tool.perEventTool), yargsOptions(tool.options), BUILTIN_OPTIONS]
}

export function buildParser<O>(tool: ToolDefinition<O>, argv: readonly string[]) {
  const [common, own, builtin] = optionGroups(tool)
  const y = loadYargs()([...argv])
    .scriptName(tool.name)
    // Messages in one language whatever LANG says (scripts match on them).
    .locale('en')
    .detectLocale(false)
    .usage(`Usage: ${tool.name} [options]\n\n${tool.summary}`)
    .parserConfiguration({ 'boolean-negation': false, 'camel-case-expansion': false, 'duplicate-arguments-array': true })
    .options(common)
    .options(own)
    .strict()
    .help(false)
    .version(false)
    .options(builtin)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw new UsageError(msg || err?.message || 'invalid arguments')
    })
  for (const [cmd, what] of tool.examples) y.example(cmd, what)
  if (tool.helpNotes) y.epilogue(tool.helpNotes)
  return y
}

/** What yargs would parse from argv, without yargs; null when only yargs can say. */
export function parseArgsFast<O>(tool: ToolDefinition<O>, argv: readonly string[]): ToolArgs | null {
  return compileFastParser(tool.name, optionGroups(tool), Object.keys(BUILTIN_OPTIONS))?.parse(argv) ?? null
}

export async function parseArgs<O>(tool: ToolDefinition<O>, argv: readonly string[]): Promise<ParsedArgs> {
  const fast = parseArgsFast(tool, argv)
  if (fast) return { kind: 'run', args: fast }
  const parser = buildParser(tool, argv)
  const args = (await parser.parseAsync()) as ToolArgs
  if (args.help) return { kind: 'printed', text: await parser.getHelp() }
  if (args.version) return { kind: 'printed', text: `${tool.name} (netdrop-tools) ${VERSION}` }
  return { kind: 'run', args }
}
