import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'
import { addressText, Kallsyms } from '../../lib/kernel/kallsyms.js'

const TEXT = [
  'ffffffff81000000 T _stext',
  'ffffffff81000000 T _text',
  'ffffffff818ac410 T tcp_v4_rcv',
  'ffffffff8186a340 T nf_hook_slow', // out of order on purpose: modules and some sections are
  'ffffffff81900000 t dup_static',
  'ffffffff81900100 t dup_static',
  '0000000000000000 A fixed_percpu_data',
  'ffffffffc02f80d0 t nft_do_chain\t[nf_tables]',
  'ffffffffc02f9000 t nft_other\t[nf_tables]',
].join('\n')

t.test('symbolizes as %pS does: sym+0xoff, module in brackets', async (t) => {
  const k = Kallsyms.parse(TEXT)
  t.equal(k.hidden, false)
  t.equal(k.symbolize(0xffffffff818ac491n), 'tcp_v4_rcv+0x81')
  t.equal(k.symbolize(0xffffffff8186a340n), 'nf_hook_slow+0x0')
  t.equal(k.symbolize(0xffffffffc02f854fn), 'nft_do_chain+0x47f [nf_tables]')
  t.equal(k.symbolize(0xffffffff80000000n), null, 'below the first symbol')
  t.equal(k.lookup(0xffffffff818ac491n)?.symbol.name, 'tcp_v4_rcv')
})

t.test('names to addresses; ambiguous statics give null', async (t) => {
  const k = Kallsyms.parse(TEXT)
  t.equal(k.address('tcp_v4_rcv'), 0xffffffff818ac410n)
  t.equal(k.address('nft_do_chain', 'nf_tables'), 0xffffffffc02f80d0n)
  t.equal(k.address('nft_do_chain'), null, 'module symbols need their module')
  t.equal(k.address('dup_static'), null)
  t.equal(k.address('fixed_percpu_data'), null, 'absolute symbols are skipped')
  t.equal(addressText(0xc02f854fn), '00000000c02f854f')
})

t.test('kptr_restrict: all-zero addresses are reported, never symbolized', async (t) => {
  const k = Kallsyms.parse(TEXT.replace(/^[0-9a-f]{16}/gm, '0000000000000000'))
  t.equal(k.hidden, true)
  t.equal(k.symbolize(0xffffffff818ac491n), null)
  t.equal(k.address('tcp_v4_rcv'), null)
})

t.test('real /proc/kallsyms of this host', { skip: !existsSync('/proc/kallsyms') && 'no /proc/kallsyms' }, async (t) => {
  const k = Kallsyms.load()
  t.ok(k.size > 1000, `${k.size} symbols`)
  if (k.hidden) {
    t.equal(k.symbolize(0xffffffff81000000n), null, 'hidden addresses: nothing symbolized')
    return
  }
  // Every function's own address maps back to a symbol at offset 0 (aliases may share it).
  const lines = readFileSync('/proc/kallsyms', 'utf8').split('\n')
  const line = lines.find((l) => / [Tt] tcp_v4_rcv$/.test(l))
  t.ok(line, 'tcp_v4_rcv is in kallsyms')
  const addr = BigInt('0x' + (line ?? '0').split(' ')[0])
  t.equal(k.address('tcp_v4_rcv'), addr)
  t.equal(k.symbolize(addr + 0x42n), 'tcp_v4_rcv+0x42')
  t.throws(() => Kallsyms.load('/nonexistent/kallsyms'), /cannot read/)
})
