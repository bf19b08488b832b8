import t from 'tap'
import { hasField, parseFormat, parseSymbolicTables } from '../../ftrace/format.js'
import { fixture, fixtureKernels, hasFixture } from '../lib/fixtures.js'

t.test('6.18 tcp_retransmit_skb: fields, offsets, err, symbolic state table', async (t) => {
  const f = parseFormat(fixture('6.18', 'tcp__tcp_retransmit_skb.format'))
  t.equal(f.name, 'tcp_retransmit_skb')
  t.ok(f.id > 0)
  const byName = new Map(f.fields.map((x) => [x.name, x]))
  t.match(byName.get('skaddr'), { type: 'const void *', offset: 16, size: 8, signed: false })
  t.match(byName.get('saddr_v6'), { type: '__u8', arrayLength: 16, offset: 42, size: 16 })
  t.match(byName.get('err'), { type: 'int', offset: 76, size: 4, signed: true })
  t.ok(byName.get('common_pid')?.common)
  t.ok(hasField(f, 'family'))
  t.equal(f.symbolic.get('state')?.get('TCP_ESTABLISHED'), 'TCP_ESTABLISHED')
  t.equal(f.symbolic.get('family')?.get('10'), 'AF_INET6')
})

t.test('6.18 tcp_retransmit_synack has no state and no err', async (t) => {
  const f = parseFormat(fixture('6.18', 'tcp__tcp_retransmit_synack.format'))
  t.notOk(hasField(f, 'state'))
  t.notOk(hasField(f, 'err'))
  t.ok(hasField(f, 'req'))
})

t.test('every captured format file of every kernel parses', async (t) => {
  for (const k of fixtureKernels()) {
    for (const name of ['tcp__tcp_retransmit_skb.format', 'tcp__tcp_retransmit_synack.format', 'skb__kfree_skb.format']) {
      if (!hasFixture(k, name)) continue
      const f = parseFormat(fixture(k, name))
      t.ok(f.fields.length > 4, `${k} ${name}: ${f.fields.length} fields`)
      t.ok(hasField(f, 'common_pid'), `${k} ${name}: common header`)
    }
  }
})

t.test('kfree_skb reason table comes from the format file', async (t) => {
  const f = parseFormat(fixture('6.18', 'skb__kfree_skb.format'))
  const reasons = f.symbolic.get('reason')
  t.ok(reasons && reasons.size > 50, `${reasons?.size} reasons`)
  t.ok([...(reasons?.values() ?? [])].includes('NO_SOCKET'))
})

t.test('__print_symbolic with nested parentheses and strings containing braces', async (t) => {
  const tables = parseSymbolicTables('"x=%s y=%s", __print_symbolic(REC->x, { 1, "A (one)" }, { (2), "B}" }), __print_symbolic(REC->y, { 0x10, "C" })')
  t.equal(tables.get('x')?.get('1'), 'A (one)')
  t.equal(tables.get('y')?.get('0x10'), 'C')
})

t.test('malformed format files are clear errors, not crashes', async (t) => {
  t.throws(() => parseFormat('garbage'), /malformed format file: no name/)
  t.throws(() => parseFormat('name: x\nID: 1\nformat:\n'), /no fields/)
})
