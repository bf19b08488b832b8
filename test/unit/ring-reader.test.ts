// The ring-buffer reader's bookkeeping on a ring laid out as the kernel lays it
// out (consumer page, producer page, data). The reader maps the data once, so a
// record that wraps is split between the data's end and its start, as the
// kernel writes it. The real kernel ring is exercised by the tcpdrop/tcpretrans
// integration tests.
import t from 'tap'
import { RingReader, type MappedMemory } from '../../bpf/ring-reader.js'

const PAGE = 4096
const SIZE = 4096 // data bytes

function fakeRing() {
  const consumer = new ArrayBuffer(PAGE)
  const producerAndData = new ArrayBuffer(PAGE + SIZE)
  const unmapped: ArrayBuffer[] = []
  const mem: MappedMemory = {
    map: (_fd, len, writable, offset) => {
      if (offset === 0 && writable && len === PAGE) return consumer
      if (offset === PAGE && !writable && len === PAGE + SIZE) return producerAndData
      throw new Error(`unexpected mapping ${len} at ${offset}`)
    },
    unmap: (b) => void unmapped.push(b),
  }
  const dv = new DataView(producerAndData)
  let prod = 0
  /** Appends one record (payload = its index byte repeated); returns its header offset. */
  const produce = (len: number, flags = 0, fill = 0) => {
    const at = PAGE + (prod % SIZE)
    dv.setUint32(at, len | flags, true)
    // Past the end of the data, the kernel's bytes land at its start.
    for (let i = 0; i < len; i++) dv.setUint8(PAGE + ((prod + 8 + i) % SIZE), fill === -1 ? i & 0xff : fill)
    prod += (len + 8 + 7) & ~7
    dv.setBigUint64(0, BigInt(prod), true)
    return at
  }
  const consumerPos = () => Number(new DataView(consumer).getBigUint64(0, true))
  return { mem, produce, consumerPos, unmapped, dv }
}

t.test('hands over records in order, skips discarded ones, advances consumer_pos', async (t) => {
  const ring = fakeRing()
  const seen: Array<[number, number]> = []
  const reader = new RingReader(ring.mem, 3, SIZE, PAGE, 100, (dv) => seen.push([dv.byteLength, dv.getUint8(0)]))
  ring.produce(12, 0, 1)
  ring.produce(20, 0x40000000, 2) // discarded
  ring.produce(5, 0, 3)
  t.equal(reader.consume(), false, 'not stopped by the budget')
  t.same(seen, [[12, 1], [5, 3]])
  t.equal(ring.consumerPos(), 24 + 32 + 16, 'consumer_pos past all three (8-byte aligned)')
  t.equal(reader.consume(), false)
  t.equal(seen.length, 2, 'nothing twice')
})

t.test('stops at a record still being written, resumes there', async (t) => {
  const ring = fakeRing()
  const seen: number[] = []
  const reader = new RingReader(ring.mem, 3, SIZE, PAGE, 100, (dv) => seen.push(dv.getUint8(0)))
  ring.produce(8, 0, 1)
  const busy = ring.produce(8, 0x80000000, 2)
  ring.produce(8, 0, 3)
  reader.consume()
  t.same(seen, [1])
  ring.dv.setUint32(busy, 8, true) // committed
  reader.consume()
  t.same(seen, [1, 2, 3])
})

t.test('a record that wraps around the end is read whole; the budget bounds a call', async (t) => {
  const ring = fakeRing()
  const seen: number[] = []
  let last: number[] = []
  const reader = new RingReader(ring.mem, 3, SIZE, PAGE, 3, (dv) => {
    seen.push(dv.byteLength)
    last = Array.from({ length: dv.byteLength }, (_, i) => dv.getUint8(i))
  })
  for (let i = 0; i < 4; i++) ring.produce(1000 - 8) // 4000 bytes
  t.equal(reader.consume(), true, 'stopped at the budget of 3')
  t.equal(reader.consume(), false)
  const wrapAt = ring.produce(200, 0, -1) // bytes 0, 1, 2, …; starts at 4000, runs past 4096
  t.equal(wrapAt, PAGE + 4000)
  reader.consume()
  t.same(seen, [992, 992, 992, 992, 200])
  t.same(last, Array.from({ length: 200 }, (_, i) => i), 'the wrapped record joined in order')
  reader.free()
  t.equal(ring.unmapped.length, 2, 'both mappings released')
  t.equal(reader.consume(), false, 'nothing after free')
})
