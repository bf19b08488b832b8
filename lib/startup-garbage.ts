// Start-up reads a few large files once (/proc/kallsyms and the kernel's BTF,
// ~5 MB each) and leaves their buffers to the garbage collector, which on an
// idle tracer may not run for minutes: RSS would stay ~20 MB above what the
// run needs. One full collection, once start-up work is done, returns them.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

let gc: (() => void) | null | undefined
let collected = false

/** Once per process; `trimNative` then returns the C heap's free pages (libbpf's BTF parse). */
export function collectStartupGarbage(trimNative?: () => void): void {
  if (collected) return
  collected = true
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc')
      gc = runInNewContext('gc') as () => void
    } catch {
      gc = null // not essential: the collector gets there eventually
    }
  }
  gc?.()
  trimNative?.()
}
