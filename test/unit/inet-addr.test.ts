import t from 'tap'
import { formatIpv6, ipv6Bytes, parseInetAddr } from '../../lib/kernel/inet-addr.js'

t.test('IPv4 and IPv6 parse to the wire family and canonical text', async (t) => {
  t.same(parseInetAddr('198.18.0.1'), { family: 4, text: '198.18.0.1' })
  t.same(parseInetAddr('fd00:0:0:0:0:0:0:1'), { family: 6, text: 'fd00::1' })
  t.same(parseInetAddr('::ffff:198.18.0.2'), { family: 4, text: '198.18.0.2' }, 'v4-mapped is IPv4 on the wire')
  t.same(parseInetAddr('FD00::A:0:0:1'), { family: 6, text: 'fd00::a:0:0:1' })
  t.equal(parseInetAddr('nonsense'), null)
  t.equal(parseInetAddr('1.2.3'), null)
  t.equal(parseInetAddr('1::2::3'), null)
  t.equal(parseInetAddr(''), null)
})

t.test('RFC 5952 compression', async (t) => {
  const cases: Array<[string, string]> = [
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run wins
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
  ]
  for (const [input, want] of cases) {
    const bytes = ipv6Bytes(input)
    t.ok(bytes, input)
    if (bytes) t.equal(formatIpv6(bytes), want, input)
  }
})
