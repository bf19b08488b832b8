// Can a kprobe be put on this kernel function? Checked before writing
// kprobe_events so the answer says why not: inlined (no symbol, maybe only
// compiler clones such as `.part.0`), absent, notrace (a symbol ftrace
// refuses to trace, e.g. part of the tracing machinery) or blacklisted.
import { readFileSync } from 'node:fs'

export interface SymbolSources {
  /** /proc/kallsyms text. */
  kallsyms: string
  /** tracefs available_filter_functions text ('' when unreadable). */
  filterFunctions: string
  /** debugfs kprobes/blacklist text ('' when unreadable). */
  blacklist: string
}

let cached: SymbolSources | null = null

export function readSymbolSources(tracefs: string): SymbolSources {
  if (cached) return cached
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8')
    } catch {
      return ''
    }
  }
  cached = {
    kallsyms: read('/proc/kallsyms'),
    filterFunctions: read(`${tracefs}/available_filter_functions`),
    blacklist: read('/sys/kernel/debug/kprobes/blacklist'),
  }
  return cached
}

function escape(name: string): string {
  return name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/** Null when `fn` can be kprobed by name, else the reason it cannot. */
export function kprobeTargetProblem(fn: string, src: SymbolSources): string | null {
  const name = escape(fn)
  // kallsyms: `addr type name [module]`; text symbols are t/T.
  const exact = new RegExp(`^\\S+ [tT] ${name}(\\s|$)`, 'm')
  if (!exact.test(src.kallsyms)) {
    const clone = new RegExp(`^\\S+ [tT] (${name}\\.[A-Za-z0-9_.]+)`, 'm').exec(src.kallsyms)
    if (clone) return `${fn} is inlined on this kernel: only its compiler clone ${clone[1]} is in /proc/kallsyms`
    if (src.kallsyms === '') return `cannot read /proc/kallsyms to look up ${fn}`
    return `${fn} is not in /proc/kallsyms: inlined into its callers or not in this kernel`
  }
  if (src.filterFunctions !== '' && !new RegExp(`^${name}(\\s|$)`, 'm').test(src.filterFunctions)) {
    return `${fn} is notrace on this kernel (in /proc/kallsyms but not in available_filter_functions)`
  }
  if (new RegExp(`\\s${name}(\\s|$)`, 'm').test(src.blacklist)) return `${fn} is on the kprobe blacklist`
  return null
}
