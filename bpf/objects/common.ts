// Helpers shared by the object definitions.
import type { RunRequest } from '../../lib/backend.js'
import type { FilterName, FilterPlace } from '../../lib/filters.js'
import { MAX_FILTER_ADDRS, MAX_FILTER_PORTS, MAX_FILTER_REASONS } from '../event-abi.js'
import type { DecodeEnv } from './object-def.js'

/** Filters go into the kernel unless the user asked for more values than the config holds. */
export function kernelFilterPlaces(req: RunRequest, names: FilterName[]): Partial<Record<FilterName, FilterPlace>> {
  const out: Partial<Record<FilterName, FilterPlace>> = {}
  for (const n of names) out[n] = 'kernel'
  if (req.filters.ports.length > MAX_FILTER_PORTS && out.port) out.port = 'user'
  if (req.filters.addrs.length > MAX_FILTER_ADDRS && out.addr) out.addr = 'user'
  if (req.filters.reasons.length > MAX_FILTER_REASONS && out.reason) out.reason = 'user'
  return out
}

export function symbolizeStack(addrs: bigint[], env: DecodeEnv): string[] {
  return addrs.map((a) => env.symbolize(a))
}
