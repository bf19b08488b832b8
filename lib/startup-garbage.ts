// Start-up reads a few large files once (/proc/kallsyms and the kernel's BTF,
// ~5 MB each) and leaves their buffers to the garbage collector, which on an
// idle tracer may not run for minutes: RSS would stay ~20 MB above what the
// run needs. One full collection, once start-up work is done, returns them.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

let gc: (() => void) | null | undefined
let collected = false

/** One full collection now: between two large start-up reads, so that the
 *  first one's buffer is gone before the second one's arrives. */
export function collectGarbageNow(): void {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc')
      gc = runInNewContext('gc') as () => void
    } catch {
      gc = null // not essential: the collector gets there eventually
    }
  }
  gc?.()
}

/** Once per process; `trimNative` then returns the C heap's free pages (libbpf's BTF parse). */
export function collectStartupGarbage(trimNative?: () => void): void {
  if (collected) return
  collected = true
  collectGarbageNow()
  trimNative?.()
}
