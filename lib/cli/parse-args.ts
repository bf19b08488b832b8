// Builds the yargs parser of one tool from the common options plus the tool's
// own, in the style of bcc tools: description, options, then examples.
import { createRequire } from 'node:module'
import type yargsFactory from 'yargs'
import { UsageError } from '../errors.js'
import type { ToolDefinition } from '../tools/tool.js'
import { yargsOptions } from './option-spec.js'
import { commonOptionDefs } from './common-options.js'
import { VERSION } from './version.js'

// yargs 17's CommonJS build is one bundled file and loads in ~13 ms; its ESM
// entry (and yargs 18, ESM only) pulls in a module graph that costs ~50 ms at
// every start, a third of the start-up budget.
const yargs = createRequire(import.meta.url)('yargs/yargs') as typeof yargsFactory

export type ToolArgs = Record<string, unknown>

export type ParsedArgs = { kind: 'run'; args: ToolArgs } | { kind: 'printed'; text: string }

export function buildParser<O>(tool: ToolDefinition<O>, argv: readonly string[]) {
  const y = yargs([...argv])
    .scriptName(tool.name)
    // Messages in one language whatever LANG says (scripts match on them).
    .locale('en')
    .detectLocale(false)
    .usage(`Usage: ${tool.name} [options]\n\n${tool.summary}`)
    .parserConfiguration({ 'boolean-negation': false, 'camel-case-expansion': false, 'duplicate-arguments-array': true })
    .options(commonOptionDefs(tool.perEventTool))
    .options(yargsOptions(tool.options))
    .strict()
    .help(false)
    .version(false)
    .option('help', { alias: 'h', type: 'boolean', describe: 'show this help' })
    .option('version', { alias: 'V', type: 'boolean', describe: 'show the version' })
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw new UsageError(msg || err?.message || 'invalid arguments')
    })
  for (const [cmd, what] of tool.examples) y.example(cmd, what)
  if (tool.helpNotes) y.epilogue(tool.helpNotes)
  return y
}

export async function parseArgs<O>(tool: ToolDefinition<O>, argv: readonly string[]): Promise<ParsedArgs> {
  const parser = buildParser(tool, argv)
  const args = (await parser.parseAsync()) as ToolArgs
  if (args.help) return { kind: 'printed', text: await parser.getHelp() }
  if (args.version) return { kind: 'printed', text: `${tool.name} (netdrop-tools) ${VERSION}` }
  return { kind: 'run', args }
}
