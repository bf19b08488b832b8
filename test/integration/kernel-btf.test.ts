// The bpf backend reads the kernel's BTF with one bpf() call instead of the
// sysfs file's 4 KiB reads (bpf/libbpf.ts vmlinuxBtf): it must be the same bytes.
import { existsSync, readFileSync, statSync } from 'node:fs'
import t from 'tap'
import { libbpf } from '../../bpf/libbpf.js'
import { requireRoot } from '../lib/test-hosts.js'

requireRoot('bpf(BPF_OBJ_GET_INFO_BY_FD) on a BTF object needs CAP_SYS_ADMIN')
const FILE = '/sys/kernel/btf/vmlinux'
if (!existsSync(FILE)) {
  t.plan(0, `${FILE} absent: this kernel has no BTF`)
  process.exit(0)
}

t.test('the kernel BTF from bpf() is the bytes of /sys/kernel/btf/vmlinux', async (t) => {
  const file = readFileSync(FILE)
  const viaBpf = libbpf().vmlinuxBtf(statSync(FILE).size)
  t.ok(viaBpf, 'bpf() gave the kernel BTF')
  t.equal(viaBpf?.length, file.length, `${file.length} bytes`)
  t.ok(viaBpf && Buffer.compare(viaBpf, file) === 0, 'byte for byte')
})

t.test('a size that is not vmlinux BTF\'s is refused, not a short copy', async (t) => {
  t.equal(libbpf().vmlinuxBtf(statSync(FILE).size - 1), null)
})
