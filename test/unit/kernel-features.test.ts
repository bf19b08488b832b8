// KernelFeatures answers its BTF questions from one bpf() copy of the kernel
// BTF when it can, and from the sysfs file when that copy is refused or fails.
import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'
import { KernelFeatures, VMLINUX_BTF } from '../../bpf/kernel-features.js'
import type { Libbpf } from '../../bpf/libbpf.js'
import { Btf } from '../../lib/kernel/btf.js'

if (!existsSync(VMLINUX_BTF)) {
  t.plan(0, `${VMLINUX_BTF} absent: this kernel has no BTF to read either way`)
  process.exit(0)
}

const withBtfCopy = (vmlinuxBtf: Libbpf['vmlinuxBtf']) => new KernelFeatures({ vmlinuxBtf } as Libbpf)
const expected = Btf.load(VMLINUX_BTF).tracepointArgs('kfree_skb')

t.test('the copy, when the kernel gives it', async (t) => {
  let asked = 0
  const features = withBtfCopy((size) => {
    asked = size
    return readFileSync(VMLINUX_BTF)
  })
  t.equal(features.tracepointArgs('kfree_skb'), expected)
  t.ok(asked > 0, `asked for ${asked} bytes, the file's size`)
})

t.test('the file, when the copy is refused', async (t) => {
  t.equal(withBtfCopy(() => null).tracepointArgs('kfree_skb'), expected)
})

t.test('the file, when the copy fails', async (t) => {
  const features = withBtfCopy(() => {
    throw new Error('koffi: cannot find function bpf_btf_get_fd_by_id')
  })
  t.equal(features.tracepointArgs('kfree_skb'), expected)
  t.ok(features.dropReasons(), 'drop reasons still read')
})
