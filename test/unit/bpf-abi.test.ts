// The event ABI: every offset the TypeScript decoder/encoder uses
// (bpf/event-abi.ts) equals the layout the compiler gave bpf/netdrop.h, read
// from the BTF of the shipped objects.
import t from 'tap'
import { DROP_COUNT_KEY, DROP_EVENT, FILTER_CONFIG, RETRANS_EVENT, SUPPRESSED_KEY } from '../../bpf/event-abi.js'
import { bpftoolAvailable, structLayouts } from '../lib/btf-dump.js'
import { ROOT } from '../lib/run-cli.js'

if (!bpftoolAvailable()) {
  t.plan(0, 'bpftool is not installed (test/setup.sh installs it)')
} else {
  const checks: Array<[string, string, { size: number; fields: Record<string, number> }]> = [
    ['tcpretrans.bpf.o', 'retrans_event', RETRANS_EVENT],
    ['tcpdrop.bpf.o', 'drop_event', DROP_EVENT],
    ['tcpretrans.bpf.o', 'filter_config', FILTER_CONFIG],
    ['tcpdrop.bpf.o', 'filter_config', FILTER_CONFIG],
    ['tcpdrop.bpf.o', 'suppressed_key', SUPPRESSED_KEY],
    ['dropwatch.bpf.o', 'drop_count_key', DROP_COUNT_KEY],
    ['dropwatch.bpf.o', 'filter_config', FILTER_CONFIG],
  ]
  for (const [file, struct, abi] of checks) {
    t.test(`${struct} in ${file}`, async (t) => {
      const layout = structLayouts(`${ROOT}bpf/${file}`).get(struct)
      t.ok(layout, `${struct} is in the BTF of ${file}`)
      if (!layout) return
      t.equal(abi.size, layout.size, 'size')
      for (const [name, offset] of Object.entries(abi.fields)) {
        t.equal(offset, layout.members.get(name), `${name} at ${offset}`)
      }
    })
  }
}
