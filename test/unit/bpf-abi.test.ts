// The event ABI: every offset the TypeScript decoder/encoder uses
// (bpf/event-abi.ts) equals the layout the compiler gave bpf/netdrop.h, read
// from the BTF of the shipped objects, and each object's .rodata holds its
// configuration structs where the encoder writes them.
import t from 'tap'
import {
  DROP_COUNT_KEY,
  DROP_EVENT,
  DROPWATCH_CONFIG,
  RETRANS_EVENT,
  RODATA,
  RUN_CONFIG,
  SUPPRESSED_KEY,
  TCPDROP_CONFIG,
  TCPRETRANS_CONFIG,
} from '../../bpf/event-abi.js'
import { bpftoolAvailable, datasecLayout, structLayouts } from '../lib/btf-dump.js'
import { ROOT } from '../lib/run-cli.js'

if (!bpftoolAvailable()) {
  t.plan(0, 'bpftool is not installed (test/setup.sh installs it)')
} else {
  const checks: Array<[string, string, { size: number; fields: Record<string, number> }]> = [
    ['tcpretrans.bpf.o', 'retrans_event', RETRANS_EVENT],
    ['tcpdrop.bpf.o', 'drop_event', DROP_EVENT],
    ['tcpdrop.bpf.o', 'suppressed_key', SUPPRESSED_KEY],
    ['dropwatch.bpf.o', 'drop_count_key', DROP_COUNT_KEY],
    ['tcpretrans.bpf.o', 'run_config', RUN_CONFIG],
    ['tcpdrop.bpf.o', 'run_config', RUN_CONFIG],
    ['dropwatch.bpf.o', 'run_config', RUN_CONFIG],
    ['tcpdrop.bpf.o', 'tcpdrop_config', TCPDROP_CONFIG],
    ['tcpretrans.bpf.o', 'tcpretrans_config', TCPRETRANS_CONFIG],
    ['dropwatch.bpf.o', 'dropwatch_config', DROPWATCH_CONFIG],
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

  for (const [tool, rodata] of Object.entries(RODATA)) {
    const file = `${tool}.bpf.o`
    t.test(`.rodata of ${file}`, async (t) => {
      const sec = datasecLayout(`${ROOT}bpf/${file}`, '.rodata')
      t.same([...sec.vars.keys()].sort(), ['cfg', 'tool_cfg'], 'holds cfg and tool_cfg, nothing else')
      t.equal(rodata.size, sec.size, 'size')
      t.has(sec.vars.get('cfg'), { type: 'run_config', offset: rodata.run, size: RUN_CONFIG.size }, `cfg at ${rodata.run}`)
      const own = { tcpdrop: TCPDROP_CONFIG, tcpretrans: TCPRETRANS_CONFIG, dropwatch: DROPWATCH_CONFIG }[tool]
      t.has(sec.vars.get('tool_cfg'), { type: `${tool}_config`, offset: rodata.tool, size: own?.size }, `tool_cfg at ${rodata.tool}`)
    })
  }
}
