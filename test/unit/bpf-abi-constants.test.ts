// The #define constants of bpf/netdrop.h (not in BTF, so bpf-abi.test.ts
// cannot see them) equal their TypeScript names in bpf/event-abi.ts.
import { readFileSync } from 'node:fs'
import t from 'tap'
import {
  COUNTER,
  DROP_FLAG,
  MAX_FILTER_ADDRS,
  MAX_FILTER_PORTS,
  MAX_FILTER_REASONS,
  MAX_STACK_DEPTH,
  RETRANS_TYPE,
} from '../../bpf/event-abi.js'
import { ROOT } from '../lib/run-cli.js'

const defines = new Map<string, number>()
for (const m of readFileSync(`${ROOT}bpf/netdrop.h`, 'utf8').matchAll(/^#define (\w+) (\d+)\b/gm)) defines.set(m[1] as string, Number(m[2]))

const expected: Record<string, number> = {
  MAX_STACK_DEPTH,
  MAX_FILTER_PORTS,
  MAX_FILTER_ADDRS,
  MAX_FILTER_REASONS,
  RETRANS_SKB: RETRANS_TYPE.skb,
  RETRANS_SYNACK: RETRANS_TYPE.synack,
  RETRANS_TLP: RETRANS_TYPE.tlp,
  DROP_HAS_SOCKET: DROP_FLAG.hasSocket,
  DROP_HAS_TCP_HEADER: DROP_FLAG.hasTcpHeader,
  DROP_STACK_NOT_SAMPLED: DROP_FLAG.stackNotSampled,
  DROP_HAS_REASON: DROP_FLAG.hasReason,
  COUNTER_LOST: COUNTER.lost,
  COUNTER_HIDDEN_NOT_SPECIFIED: COUNTER.hiddenNotSpecified,
  COUNTER_SUPPRESSED: COUNTER.suppressed,
  COUNTER_STACK_NOT_SAMPLED: COUNTER.stackNotSampled,
  COUNTER_COVERED: COUNTER.covered,
  COUNTER_MAX: COUNTER.max,
}

for (const [name, value] of Object.entries(expected)) t.equal(defines.get(name), value, `${name} ${value}`)

const prefixes = ['MAX_', 'RETRANS_', 'DROP_', 'COUNTER_']
const unnamed = [...defines.keys()].filter((n) => prefixes.some((p) => n.startsWith(p)) && !(n in expected))
t.same(unnamed, [], 'every constant of the header has its TypeScript name')
