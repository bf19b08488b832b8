// Traffic for the 5.10 data-path drop evaluation (run inside the legacy guest).
//   node traffic.mjs recv PORT SECONDS            listen on 198.18.0.2:PORT, accept, never read
//   node traffic.mjs send PORT BYTES CHUNK SECONDS write BYTES in CHUNK-byte writes (Nagle off), keep open SECONDS
//   node traffic.mjs shrink PORT SECONDS          accept, read for 1 s, then stop reading and shrink SO_RCVBUF to 4 KiB
//   node traffic.mjs echo PORT                     echo everything back
//   node traffic.mjs pingpong PORT N               N one-byte round trips (one skb each way), print elapsed ms
import net from 'node:net'

const [mode, port, a, b, c] = process.argv.slice(2)
if (mode === 'recv') {
  const srv = net.createServer({ pauseOnConnect: true }, (s) => { s.on('error', () => {}) })
  srv.listen(Number(port), '198.18.0.2', () => console.log('listening'))
  setTimeout(() => process.exit(0), Number(a) * 1000)
} else if (mode === 'shrink') {
  // The window already advertised cannot shrink, so what is in flight now
  // meets a receive buffer too small for it: TCPRcvQDrop / TCPOFODrop.
  const { default: koffi } = await import('koffi')
  const setsockopt = koffi.load('libc.so.6').func('int setsockopt(int, int, int, const int *, uint32_t)')
  const srv = net.createServer((s) => {
    s.on('data', () => {})
    s.on('error', () => {})
    setTimeout(() => {
      s.pause()
      console.log('shrink', setsockopt(s._handle.fd, 1 /* SOL_SOCKET */, 8 /* SO_RCVBUF */, [4096], 4))
    }, 1000)
  })
  srv.listen(Number(port), '198.18.0.2', () => console.log('listening'))
  setTimeout(() => process.exit(0), Number(a) * 1000)
} else if (mode === 'echo') {
  net.createServer((s) => { s.setNoDelay(true); s.on('data', (d) => s.write(d)); s.on('error', () => {}) }).listen(Number(port), '198.18.0.2', () => console.log('listening'))
} else if (mode === 'pingpong') {
  const n = Number(a)
  const s = net.connect({ host: '198.18.0.2', port: Number(port), noDelay: true })
  let left = n, t0 = 0n
  s.on('connect', () => { t0 = process.hrtime.bigint(); s.write('x') })
  s.on('data', (d) => {
    left -= d.length
    if (left > 0) return s.write('x')
    console.log(Number(process.hrtime.bigint() - t0) / 1e6)
    process.exit(0)
  })
} else if (mode === 'send') {
  const total = Number(a), chunk = Number(b)
  const s = net.connect({ host: '198.18.0.2', port: Number(port), noDelay: true })
  s.on('error', () => {})
  s.on('connect', () => {
    const buf = Buffer.alloc(chunk, 0x61)
    for (let sent = 0; sent < total; sent += chunk) s.write(buf)
  })
  setTimeout(() => { s.destroy(); process.exit(0) }, Number(c) * 1000)
}
