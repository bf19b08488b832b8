import t from 'tap'
import { normalizePointer, parseProcNetTcp, parseProcNetTcpLine, pointerMode } from '../../lib/kernel/proc-net-tcp.js'
import { joinImpossibleReason } from '../../lib/kernel/socket-table.js'
import { fixture } from '../lib/fixtures.js'

const MODES = { 0: 'hashed', 1: 'raw', 2: 'zero' } as const

for (const kernel of ['5.10', '6.1']) {
  t.test(`${kernel}: every kptr_restrict variant of /proc/net/tcp and tcp6`, async (t) => {
    for (const k of [0, 1, 2] as const) {
      for (const [name, table] of [
        [`proc-net-tcp-kptr${k}.txt`, 'tcp'],
        [`proc-net-tcp-kptr${k}-srv.txt`, 'tcp'],
        [`proc-net-tcp6-kptr${k}.txt`, 'tcp6'],
        [`proc-net-tcp6-kptr${k}-cli.txt`, 'tcp6'],
      ] as const) {
        const text = fixture(kernel, name)
        const entries = parseProcNetTcp(text, table)
        const lines = text.trim().split('\n').length - 1 // minus the header
        t.equal(entries.length, lines, `${name}: every socket line parsed`)
        t.equal(pointerMode(entries), entries.length ? MODES[k] : 'unknown', `${name}: pointer column is ${MODES[k]}`)
      }
    }
  })

  t.test(`${kernel}: tuples, states and wire family`, async (t) => {
    const v4 = parseProcNetTcp(fixture(kernel, 'proc-net-tcp-kptr1.txt'), 'tcp')
    for (const e of v4) t.match(e, { family: 4, table: 'tcp', laddr: '198.18.0.1', raddr: '198.18.0.2' })
    t.ok(v4.some((e) => e.state === 'ESTABLISHED' && e.inode > 0 && e.pointer.startsWith('ffff')))
    const v6 = parseProcNetTcp(fixture(kernel, 'proc-net-tcp6-kptr0.txt'), 'tcp6')
    t.match(v6[0], { family: 6, laddr: '::', lport: 9100, raddr: '::', rport: 0, state: 'LISTEN' })
    t.ok(v6.some((e) => e.family === 6 && e.laddr === 'fd00::2' && e.raddr === 'fd00::1' && e.state === 'ESTABLISHED'), 'native IPv6')
    t.ok(v6.some((e) => e.family === 4 && e.laddr === '198.18.0.2' && e.raddr === '198.18.0.1'), 'v4-mapped peer is wire family 4')
  })

  t.test(`${kernel}: request sockets (SYN_RECV) carry the request pointer`, async (t) => {
    const srv = parseProcNetTcp(fixture(kernel, 'proc-net-tcp6-kptr1-after-synack-srv.txt'), 'tcp6')
    const reqs = srv.filter((e) => e.state === 'SYN_RECV')
    t.ok(reqs.length >= 2, `${reqs.length} request sockets`)
    t.ok(reqs.every((e) => e.inode === 0 && e.pointer.startsWith('ffff')))
    t.equal(pointerMode(srv), 'raw')
  })
}

t.test('lines that are not sockets', async (t) => {
  t.equal(parseProcNetTcpLine('  sl  local_address rem_address   st tx_queue', 'tcp'), null)
  t.equal(parseProcNetTcpLine('', 'tcp'), null)
  t.equal(parseProcNetTcpLine('   0: 010012C6:D310 020012C6', 'tcp'), null)
})

t.test('pointer forms', async (t) => {
  t.equal(normalizePointer('0xffff88805e076040'), 'ffff88805e076040')
  t.equal(normalizePointer('0xABC'), '0000000000000abc')
  t.match(joinImpossibleReason('hashed', 0), /kptr_restrict=0: .*hashed.*kptr_restrict=1 with CAP_SYSLOG/)
  t.match(joinImpossibleReason('zero', 2), /kptr_restrict=2: .*zeros/)
  t.equal(joinImpossibleReason('raw', 1), null)
})
