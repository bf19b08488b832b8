// Where the compiled objects are: bpf/ of the package (dist/bpf/*.js → ../../bpf/).
import { fileURLToPath } from 'node:url'

export function objectPath(file: string): string {
  return fileURLToPath(new URL(`../../bpf/${file}`, import.meta.url))
}
