import t from 'tap'
import { defineTable, fitWidths, pad, renderHeader, renderRow, type Column } from '../../lib/format/columns.js'

interface Row {
  name: string
  n: number
}

const name: Column<Row> = { header: 'NAME', width: 6, cell: (r) => r.name }
const n: Column<Row> = { header: 'N', width: 4, cell: (r) => r.n }

t.test('pad: left by default, right on request, never cuts', async (t) => {
  t.equal(pad('ab', 5), 'ab   ')
  t.equal(pad('ab', 5, 'right'), '   ab')
  t.equal(pad('abcdef', 3), 'abcdef')
  t.equal(pad('abc', 3, 'right'), 'abc')
  t.equal(pad('', 0), '')
})

t.test('header and rows from the same columns, one space between by default', async (t) => {
  const table = defineTable([name, n, { header: 'LAST', cell: (r: Row) => `${r.name}!` }])
  t.equal(renderHeader(table), 'NAME   N    LAST')
  t.equal(renderRow(table, { name: 'ab', n: 7 }), 'ab     7    ab!')
})

t.test('a cell longer than its column pushes the rest of the line', async (t) => {
  const table = defineTable([name, n, { header: 'X', cell: () => 'x' }])
  t.equal(renderRow(table, { name: 'abcdefgh', n: 123456 }), 'abcdefgh 123456 x')
})

t.test('a left-aligned last cell is not padded; a right-aligned one is', async (t) => {
  t.equal(renderHeader(defineTable([name, n])), 'NAME   N')
  t.equal(renderRow(defineTable([name, n]), { name: 'a', n: 1 }), 'a      1')
  const right = defineTable([name, { ...n, align: 'right' }])
  t.equal(renderHeader(right), 'NAME      N')
  t.equal(renderRow(right, { name: 'a', n: 12 }), 'a        12')
})

t.test('separators: before a column, not before the first, header override', async (t) => {
  const table = defineTable([
    { ...name, sep: ' never ' },
    { ...n, sep: ' <-> ' },
    { header: 'T', cell: () => 'R' },
    { header: 'Z', sep: '> ', headerSep: '>  ', cell: () => 'z' },
  ])
  t.equal(renderHeader(table), 'NAME   <-> N    T>  Z')
  t.equal(renderRow(table, { name: 'ab', n: 1 }), 'ab     <-> 1    R> z')
})

t.test('optional columns: in the table only when `when` is true', async (t) => {
  const cols = (on: boolean) => defineTable([name, { ...n, when: on }, { header: 'END', when: true, cell: () => 'e' }])
  t.equal(cols(false).columns.length, 2)
  t.equal(renderHeader(cols(false)), 'NAME   END')
  t.equal(renderRow(cols(false), { name: 'a', n: 1 }), 'a      e')
  t.equal(renderHeader(cols(true)), 'NAME   N    END')
  t.equal(renderRow(cols(true), { name: 'a', n: 1 }), 'a      1    e')
})

t.test('omitEmpty: an empty cell leaves its column and separator out of that line', async (t) => {
  const table = defineTable<Row>([
    { header: 'N', width: 3, align: 'right', cell: (r) => r.n },
    { header: 'WHERE', omitEmpty: true, sep: ' at ', cell: (r) => r.name },
    { header: '', omitEmpty: true, cell: (r) => (r.n > 1 ? '(many)' : '') },
  ])
  t.equal(renderHeader(table), '  N at WHERE', 'an empty header text is left out too')
  t.equal(renderRow(table, { name: 'x', n: 2 }), '  2 at x (many)')
  t.equal(renderRow(table, { name: '', n: 2 }), '  2 (many)')
  t.equal(renderRow(table, { name: 'x', n: 1 }), '  1 at x')
  t.equal(renderRow(table, { name: '', n: 1 }), '  1')
  const first = defineTable<Row>([{ ...name, omitEmpty: true }, { ...n, sep: ' > ' }])
  t.equal(renderRow(first, { name: '', n: 5 }), '5', 'no separator before what became the first cell')
  t.equal(renderRow(defineTable<Row>([name, { ...n, omitEmpty: true, cell: () => '' }]), { name: 'a', n: 0 }), 'a', 'what became the last cell is not padded')
})

t.test('trimEnd strips trailing spaces of header and rows', async (t) => {
  const cells = [name, { header: 'S', width: 5, cell: () => ' ' }, { ...n, cell: () => '' }]
  t.equal(renderRow(defineTable(cells), { name: 'a', n: 1 }), 'a            ')
  const trimmed = defineTable(cells, { trimEnd: true })
  t.equal(renderRow(trimmed, { name: 'a', n: 1 }), 'a')
  t.equal(renderHeader(defineTable([name, { header: '', width: 4, cell: () => '' }], { trimEnd: true })), 'NAME')
})

t.test('fitWidths: `fit` columns grow to their widest cell, never shrink', async (t) => {
  const table = defineTable<Row>([{ header: 'COUNT', width: 8, align: 'right', fit: true, cell: (r) => r.n }, name])
  const rows = [
    { name: 'a', n: 5 },
    { name: 'b', n: 123456789012 },
  ]
  const fitted = fitWidths(table, rows)
  t.same(
    rows.map((r) => renderRow(fitted, r)),
    ['           5 a', '123456789012 b'],
  )
  t.equal(renderHeader(fitted), '       COUNT NAME')
  t.equal(renderRow(fitWidths(table, [{ name: 'a', n: 5 }]), { name: 'a', n: 5 }), '       5 a', 'the width is a minimum')
  t.equal(renderRow(fitWidths(table, []), { name: 'a', n: 5 }), '       5 a', 'no rows: the width as declared')
  t.equal(fitted.columns[1], table.columns[1], 'other columns are left as they are')
  t.equal(renderRow(table, rows[0] as Row), '       5 a', 'the table fitted is not changed')
})
