import t from 'tap'
import { jsonLine } from '../../lib/format/json.js'

t.test('same text as JSON.stringify, plus exact BigInts', async (t) => {
  const samples: Array<Record<string, unknown>> = [
    { type: 'drop', n: 1, f: 1.5, s: 'a"b\\c\n\u001b[31m', z: null, arr: ['SYN', 'ACK'], nested: { pid: 1, comm: 'x y' }, empty: [], o: {} },
    { skip: undefined, keep: 0, neg: -3, bool: false, t: true },
    { nan: Number.NaN, inf: Infinity },
  ]
  for (const s of samples) t.equal(jsonLine(s), JSON.stringify(s) + '\n')
  t.equal(jsonLine({ ts_ns: 12345678901234567890n }), '{"ts_ns":12345678901234567890}\n')
  t.same(JSON.parse(jsonLine({ comm: 'ev\u0000il\u2028' })), { comm: 'ev\u0000il\u2028' })
})
