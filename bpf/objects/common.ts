// Helpers shared by the object definitions.
import type { RunRequest } from '../../lib/backend.js'
import type { KindRequest, StackRequest } from '../../lib/events.js'
import type { FilterName, FilterPlace } from '../../lib/filters.js'
import { userFacingStack } from '../../lib/kernel/stack-frames.js'
import { MAX_FILTER_ADDRS, MAX_FILTER_PORTS, MAX_FILTER_REASONS, stackAt } from '../event-abi.js'
import type { DecodeEnv } from './object-def.js'

/** Filters go into the kernel unless the user asked for more values than the config holds. */
export function kernelFilterPlaces(run: RunRequest, names: FilterName[]): Partial<Record<FilterName, FilterPlace>> {
  const out: Partial<Record<FilterName, FilterPlace>> = {}
  for (const n of names) out[n] = 'kernel'
  if (run.filters.ports.length > MAX_FILTER_PORTS && out.port) out.port = 'user'
  if (run.filters.addrs.length > MAX_FILTER_ADDRS && out.addr) out.addr = 'user'
  if (run.filters.reasons.length > MAX_FILTER_REASONS && out.reason) out.reason = 'user'
  return out
}

/** The stack request of the first kind that has one (one object, one stack setting). */
export function stackOf(requests: readonly KindRequest[]): StackRequest | null {
  for (const r of requests) if ('stack' in r.options && r.options.stack) return r.options.stack
  return null
}

/** The record's stack tail as user-facing frames. */
export function decodeStack(dv: DataView, offset: number, bytes: number, env: DecodeEnv, depth: number): string[] {
  return userFacingStack(
    stackAt(dv, offset, bytes).map((a) => env.symbolize(a)),
    depth,
  )
}
