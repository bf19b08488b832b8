// Groups the evaluation's __kfree_skb records by return address and compares
// three filters with the scenario's ground truth (sum of sk_drops):
//  - range: the return address lies in one of the issue's four functions;
//  - range + payload: the same, for segments that carry data (seq != end_seq);
//  - call sites: the inlined tcp_drop() sites of this build (callsites.txt,
//    found in its machine code by callsites.sh), two of which are tail calls
//    shared with the free of data-less segments, so counted only with payload.
import { readFileSync } from 'node:fs'
const [rangesFile, recFile, truth] = process.argv.slice(2)
const ranges = readFileSync(rangesFile, 'utf8').trim().split('\n').map((l) => { const [n, s, e] = l.split(' '); return { n, s: BigInt(s), e: BigInt(e) } })
const where = (ret) => { const r = ranges.find((x) => ret >= x.s && ret < x.e); return r ? `${r.n}+0x${(ret - r.s).toString(16)}` : `0x${ret.toString(16)}` }
const sites = new Map(readFileSync(new URL('callsites.txt', import.meta.url), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(/\s+/)))
const bySite = new Map()
for (const line of readFileSync(recFile, 'utf8').split('\n')) {
  const m = /ret=0x([0-9a-f]+) seq=(\d+) end=(\d+) fl=(\d+) len=(\d+)/.exec(line)
  if (!m) continue
  const site = where(BigInt('0x' + m[1]))
  const s = bySite.get(site) ?? { n: 0, data: 0, syn: 0, segs: 0, dataSegs: 0 }
  // sk_drops_add() adds gso_segs: a GSO skb over veth counts once per MSS (1448 here).
  const bytes = (Number(m[3]) - Number(m[2]) + 2 ** 32) % 2 ** 32
  const segs = Math.max(1, Math.ceil(bytes / 1448))
  s.n++
  s.segs += segs
  if (m[2] !== m[3]) { s.data++; s.dataSegs += segs }
  if (Number(m[4]) & 2) s.syn++
  bySite.set(site, s)
}
const issueFns = ['tcp_data_queue', 'tcp_validate_incoming', 'tcp_rcv_established', 'tcp_rcv_state_process']
let rangeAll = 0, rangeData = 0, exact = 0, exactSegs = 0
for (const [site, s] of [...bySite].sort()) {
  const kind = sites.get(site) ?? 'other'
  console.log(`  ${site.padEnd(30)} ${kind.padEnd(13)} ${String(s.n).padStart(7)} records (${s.segs} segments), ${s.data} with payload, ${s.syn} SYN`)
  if (issueFns.some((f) => site.startsWith(f + '+'))) { rangeAll += s.n; rangeData += s.data }
  if (kind === 'drop') { exact += s.n; exactSegs += s.segs }
  if (kind === 'drop-if-data') { exact += s.data; exactSegs += s.dataSegs }
}
const ratio = (n) => (Number(truth) ? (n / Number(truth)).toFixed(3) : '-')
console.log(`  truth sk_drops=${truth}: range ${rangeAll} (${ratio(rangeAll)}), range+payload ${rangeData} (${ratio(rangeData)}), call sites ${exact} records = ${exactSegs} segments (${ratio(exactSegs)})`)
