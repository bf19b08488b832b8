// Where the compiled objects are: bpf/ of the package, two directories up from
// the module that asks (dist/bpf/*.js and dist/bundle/*.js alike → ../../bpf/).
import { fileURLToPath } from 'node:url'

export function objectPath(file: string): string {
  return fileURLToPath(new URL(`../../bpf/${file}`, import.meta.url))
}
