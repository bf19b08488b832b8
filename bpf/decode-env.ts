// What decoding needs from one bpf run, loaded when first asked for: kernel
// symbols (with a cache of the few addresses that recur), drop-reason names
// and socket owners.
import { Kallsyms } from '../lib/kernel/kallsyms.js'
import { SocketOwners } from '../lib/kernel/socket-owners.js'
import type { KernelFeatures } from './kernel-features.js'
import type { DecodeEnv } from './objects/object-def.js'

export function decodeEnv(features: KernelFeatures, notice: (message: string) => void): DecodeEnv {
  let kallsyms: Kallsyms | null | undefined
  const symbols = new Map<bigint, string>()
  const owners = new SocketOwners()
  const env: DecodeEnv = {
    kallsyms: () => {
      if (kallsyms === undefined) {
        try {
          kallsyms = Kallsyms.load()
          if (kallsyms.hidden) notice('kernel addresses are hidden (kptr_restrict): stacks and locations print as raw addresses')
        } catch {
          kallsyms = null
        }
      }
      return kallsyms
    },
    symbolize: (addr) => {
      let text = symbols.get(addr)
      if (text === undefined) {
        text = env.kallsyms()?.symbolize(addr) ?? `0x${addr.toString(16)}`
        if (symbols.size > 100_000) symbols.clear()
        symbols.set(addr, text)
      }
      return text
    },
    dropReasons: () => features.dropReasons(),
    socketOwner: (inode) => owners.lookup(inode),
    warmOwners: () => owners.warm(),
    hasReason: (features.tracepointArgs('kfree_skb') ?? 0) >= 3,
  }
  return env
}
