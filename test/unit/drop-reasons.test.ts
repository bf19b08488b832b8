import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'
import { parseFormat } from '../../ftrace/format.js'
import { Btf, VMLINUX_BTF } from '../../lib/kernel/btf.js'
import { DropReasons, reasonsFromBtf, reasonsFromSymbolic } from '../../lib/kernel/drop-reasons.js'
import { fixture } from '../lib/fixtures.js'

const FORMAT = '/sys/kernel/tracing/events/skb/kfree_skb/format'

t.test('this host: BTF names agree with the tracefs __print_symbolic table', { skip: (!existsSync(VMLINUX_BTF) || !existsSync(FORMAT)) && 'needs kernel BTF and tracefs' }, async (t) => {
  const btf = reasonsFromBtf(Btf.load())
  t.ok(btf, 'enum skb_drop_reason in BTF')
  const table = parseFormat(readFileSync(FORMAT, 'utf8')).symbolic.get('reason')
  t.ok(table && table.size > 10, 'tracefs table')
  let same = 0
  for (const [value, name] of table ?? []) {
    if (btf?.name(Number(value)) === name) same++
    else t.fail(`reason ${value}: tracefs ${name}, BTF ${btf?.name(Number(value))}`)
  }
  t.equal(same, table?.size, `${same} reasons agree`)
  t.equal(DropReasons.load().source, 'btf', 'BTF is the first source')
  t.equal(btf?.name(0), '0', 'SKB_NOT_DROPPED_YET is not a drop reason')
})

t.test('tracefs table as the second source (6.1 fixture, no BTF)', async (t) => {
  const table = parseFormat(fixture('6.1', 'skb__kfree_skb.format')).symbolic.get('reason')
  const r = DropReasons.load({ btfPath: '/nonexistent/btf', symbolic: table })
  t.equal(r.source, 'tracefs')
  t.equal(r.name(7), 'NETFILTER_DROP')
  t.equal(r.name(2), 'NO_SOCKET')
  t.equal(r.code('NETFILTER_DROP'), 7)
  t.equal(r.code('SKB_DROP_REASON_NO_SOCKET'), 2, 'with the prefix')
  t.equal(r.code('no_socket'), 2, 'any case')
  t.equal(r.code('7'), 7, 'numbers are codes')
  t.equal(r.code('NOT_A_REASON'), null)
  t.equal(r.name(0x30001), String(0x30001), 'unnamed subsystem reason: the number')
})

t.test('no source: every reason is its number', async (t) => {
  const r = DropReasons.load({ btfPath: '/nonexistent/btf', symbolic: null })
  t.equal(r.source, 'none')
  t.equal(r.name(5), '5')
  t.equal(reasonsFromSymbolic(new Map([['0x2', 'SKB_DROP_REASON_X']])).name(2), 'X')
})
