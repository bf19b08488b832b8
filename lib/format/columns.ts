// Fixed-width text tables described once: a table's column list renders its
// header line and each of its rows, so the two cannot drift apart. bcc style:
// upper-case headers, left-aligned cells, and a cell longer than its column
// pushes the rest of the row instead of being cut.

export type Align = 'left' | 'right'

export interface Column<R> {
  /** Header text, upper case. */
  readonly header: string
  /** Minimum width. A shorter cell is padded; a longer one is kept whole. Default 0. */
  readonly width?: number
  /** Default 'left'. */
  readonly align?: Align
  /** Text between the previous column and this one, e.g. ' > ' or ' <-> '.
   *  Default: one space. Never written before the first column of a line. */
  readonly sep?: string
  /** The separator in the header line, where it differs from the rows' (default: sep). */
  readonly headerSep?: string
  /** An optional column is in the table only when this is true (default true). */
  readonly when?: boolean
  /** An empty cell leaves this column, with its separator, out of that line. */
  readonly omitEmpty?: boolean
  /** fitWidths() widens this column to its widest cell. */
  readonly fit?: boolean
  /** The cell of one row. */
  cell(row: R): string | number
}

export interface Table<R> {
  /** The columns in the table: those whose `when` was false are left out. */
  readonly columns: ReadonlyArray<Column<R>>
  /** Strip trailing spaces from every line. */
  readonly trimEnd: boolean
}

export function defineTable<R>(columns: ReadonlyArray<Column<R>>, options: { trimEnd?: boolean } = {}): Table<R> {
  return { columns: columns.filter((c) => c.when !== false), trimEnd: options.trimEnd ?? false }
}

/** The table with each `fit` column as wide as its widest cell in `rows` (never narrower than its width). */
export function fitWidths<R>(table: Table<R>, rows: Iterable<R>): Table<R> {
  const all = [...rows]
  const columns = table.columns.map((c) =>
    c.fit ? { ...c, width: all.reduce((w, row) => Math.max(w, String(c.cell(row)).length), c.width ?? 0) } : c,
  )
  return { ...table, columns }
}

/** `text` padded to `width`; text that is already as wide or wider is returned whole. */
export function pad(text: string, width: number, align: Align = 'left'): string {
  if (text.length >= width) return text
  const fill = ' '.repeat(width - text.length)
  return align === 'left' ? text + fill : fill + text
}

/** The header line (without a newline). */
export function renderHeader<R>(table: Table<R>): string {
  return render(table, (c) => c.header, (c) => c.headerSep ?? c.sep)
}

/** One row's line (without a newline). */
export function renderRow<R>(table: Table<R>, row: R): string {
  return render(table, (c) => String(c.cell(row)), (c) => c.sep)
}

// A left-aligned cell that ends the line is not padded: no trailing spaces.
function render<R>(table: Table<R>, text: (c: Column<R>) => string, sep: (c: Column<R>) => string | undefined): string {
  const cells: Array<{ c: Column<R>; s: string }> = []
  for (const c of table.columns) {
    const s = text(c)
    if (s !== '' || !c.omitEmpty) cells.push({ c, s })
  }
  let line = ''
  cells.forEach(({ c, s }, i) => {
    if (i > 0) line += sep(c) ?? ' '
    const align = c.align ?? 'left'
    line += i === cells.length - 1 && align === 'left' ? s : pad(s, c.width ?? 0, align)
  })
  return table.trimEnd ? line.trimEnd() : line
}
