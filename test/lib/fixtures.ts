// Reading captured kernel fixtures (test/fixtures/kernel-<version>/…).
import { existsSync, readdirSync, readFileSync } from 'node:fs'

export const FIXTURES = new URL('../fixtures/', import.meta.url)

export function fixture(kernel: string, name: string): string {
  return readFileSync(new URL(`kernel-${kernel}/${name}`, FIXTURES), 'utf8')
}

export function hasFixture(kernel: string, name: string): boolean {
  return existsSync(new URL(`kernel-${kernel}/${name}`, FIXTURES))
}

/** Kernel versions that have fixtures, e.g. ['5.10', '6.1', '6.18']. */
export function fixtureKernels(): string[] {
  return readdirSync(FIXTURES)
    .filter((d) => d.startsWith('kernel-'))
    .map((d) => d.slice('kernel-'.length))
}
