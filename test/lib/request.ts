// A complete RunRequest for unit tests of hooks and decoders: defaults plus
// what the test cares about.
import type { RunRequest } from '../../lib/backend.js'
import { NO_FILTERS } from '../../lib/filters.js'

export function testRequest(over: Partial<RunRequest> = {}): RunRequest {
  return {
    tool: 'tcpretrans',
    kinds: [{ kind: 'tcp-retransmit', required: true }],
    fields: [],
    filters: NO_FILTERS,
    hookType: 'auto',
    includeFailed: false,
    hideNotSpecified: false,
    owner: false,
    rateLimit: 0,
    stackRate: 0,
    stackDepth: 16,
    bufferKb: 1024,
    debug: false,
    ...over,
  }
}
