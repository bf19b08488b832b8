import { Btf } from '../../dist/lib/kernel/btf.js'
const b = Btf.load()
for (const [s, m] of [['sk_buff','cb'],['sk_buff','len'],['sk_buff','data_len'],['sk_buff','head'],['sk_buff','network_header'],['sk_buff','transport_header'],['sock','sk_drops'],['sk_buff','truesize']]) {
  console.log(s, m, JSON.stringify(b.member(s, m)))
}
