import t from 'tap'
import { kprobeTargetProblem } from '../../lib/kernel/kprobe-target.js'
import { fixture } from '../lib/fixtures.js'

// symbols-kallsyms.txt holds `type name` lines; give them addresses as /proc/kallsyms has.
const kallsyms = (kernel: string) =>
  fixture(kernel, 'symbols-kallsyms.txt')
    .trim()
    .split('\n')
    .map((l, i) => `ffffffff8100${i.toString(16).padStart(4, '0')} ${l}`)
    .join('\n')
// symbols.txt: `name in_kallsyms in_available_filter_functions`
const filterFunctions = (kernel: string) =>
  fixture(kernel, 'symbols.txt')
    .split('\n')
    .filter((l) => / yes$/.test(l))
    .map((l) => l.split(' ')[0])
    .join('\n')

for (const kernel of ['5.10', '6.1']) {
  t.test(`${kernel}: the tcpretrans functions can be probed; tcp_drop cannot`, async (t) => {
    const src = { kallsyms: kallsyms(kernel), filterFunctions: filterFunctions(kernel), blacklist: '' }
    for (const fn of ['tcp_retransmit_skb', 'tcp_rtx_synack', 'tcp_send_loss_probe']) t.equal(kprobeTargetProblem(fn, src), null, fn)
    t.match(kprobeTargetProblem('tcp_drop', src), /tcp_drop is not in \/proc\/kallsyms: inlined into its callers or not in this kernel/)
  })
}

t.test('inlined with a clone, notrace, blacklisted', async (t) => {
  const src = { kallsyms: 'ffffffff81000000 t tcp_foo.part.0\nffffffff81000010 T tcp_bar\nffffffff81000020 T tcp_baz [mod]', filterFunctions: 'tcp_baz [mod]\ntcp_qux', blacklist: '0xffffffff81000030-0xffffffff81000040\ttcp_qux' }
  t.match(kprobeTargetProblem('tcp_foo', src), /inlined on this kernel: only its compiler clone tcp_foo\.part\.0/)
  t.match(kprobeTargetProblem('tcp_bar', src), /notrace/)
  t.equal(kprobeTargetProblem('tcp_baz', src), null)
  t.match(kprobeTargetProblem('tcp_qux', { ...src, kallsyms: src.kallsyms + '\nffffffff81000030 T tcp_qux' }), /blacklist/)
  t.match(kprobeTargetProblem('tcp_bar', { ...src, kallsyms: '' }), /cannot read \/proc\/kallsyms/)
})
