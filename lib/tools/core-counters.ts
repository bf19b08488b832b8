// dropwatch's second block, "device and core counters": what the kernel's own
// per-device counters (/proc/net/dev) and per-CPU backlog counters
// (/proc/net/softnet_stat) counted, for the drops no tracepoint may see (a NIC
// ring overflow, a device dropping before an skb exists). Kept apart from the
// per-location table and never added to it: a veth's tx drop is also a
// kfree_skb at veth_xmit, a backlog drop also one at enqueue_to_backlog.
import { deviceKey, type DeviceCount, type KernelCounts } from '../kernel/net-counters.js'
import { defineTable, fitWidths, renderRow } from '../format/columns.js'
import { safeText } from '../format/text.js'
import type { CounterFamily } from '../prometheus.js'

/** The device and backlog part of KernelCounts. */
export type CoreCounts = Pick<KernelCounts, 'netns' | 'devices' | 'backlog'>

/** Sums of CoreCounts over intervals (the run so far). */
export class CoreTotals {
  readonly #devices = new Map<string, DeviceCount>()
  readonly #backlog = new Map<number, number>()
  netns: number | null = null

  add(k: CoreCounts): void {
    this.netns = k.netns
    for (const d of k.devices) {
      const had = this.#devices.get(deviceKey(d))
      this.#devices.set(deviceKey(d), { ...d, count: (had?.count ?? 0) + d.count })
    }
    for (const [cpu, n] of k.backlog) this.#backlog.set(cpu, (this.#backlog.get(cpu) ?? 0) + n)
  }

  counts(): CoreCounts {
    return { netns: this.netns ?? 0, devices: sortDevices([...this.#devices.values()]), backlog: new Map([...this.#backlog].sort((a, b) => a[0] - b[0])) }
  }

  /** `whole` minus what was added so far: the counts since the last interval. */
  rest(whole: CoreCounts): CoreCounts {
    const devices = whole.devices
      .map((d) => ({ ...d, count: d.count - (this.#devices.get(deviceKey(d))?.count ?? 0) }))
      .filter((d) => d.count > 0)
    const backlog = new Map([...whole.backlog].map(([cpu, n]) => [cpu, n - (this.#backlog.get(cpu) ?? 0)] as [number, number]).filter(([, n]) => n > 0))
    return { netns: whole.netns, devices: sortDevices(devices), backlog }
  }
}

function sortDevices(d: DeviceCount[]): DeviceCount[] {
  return d.sort((a, b) => b.count - a.count || a.device.localeCompare(b.device) || a.counter.localeCompare(b.counter))
}

export function isEmpty(k: CoreCounts): boolean {
  return k.devices.length === 0 && k.backlog.size === 0
}

interface CoreLine {
  count: number
  what: string
}

/** `COUNT  rx drop on eth0` / `COUNT  backlog drops on CPU 1`. */
const CORE_LINE_TABLE = defineTable<CoreLine>([
  { header: 'COUNT', width: 8, align: 'right', fit: true, cell: (l) => l.count },
  { header: 'WHAT', cell: (l) => l.what },
])

/** The text block (empty when nothing moved). */
export function coreBlock(k: CoreCounts): string {
  if (isEmpty(k)) return ''
  const lines: CoreLine[] = [
    ...k.devices.map((d) => ({ count: d.count, what: `${d.direction} ${d.counter} on ${safeText(d.device)}` })),
    ...[...k.backlog].map(([cpu, n]) => ({ count: n, what: `backlog drops on CPU ${cpu}` })),
  ]
  const table = fitWidths(CORE_LINE_TABLE, lines)
  let text = `Device and core counters (netns ${k.netns}, the kernel's own; they may count some of the drops above again):\n`
  for (const l of lines) text += renderRow(table, l) + '\n'
  return text
}

/** The JSON fields of an interval or summary record (null: the counters could not be read). */
export function coreJson(k: CoreCounts | null): Record<string, unknown> {
  if (!k) return { kernel_netns: null, device_counters: null, backlog_drops: null }
  return {
    kernel_netns: k.netns,
    device_counters: k.devices.map((d) => ({ device: d.device, direction: d.direction, counter: d.counter, count: d.count })),
    backlog_drops: [...k.backlog].map(([cpu, count]) => ({ cpu, count })),
  }
}

/** The OpenMetrics families, cumulative since start. */
export function coreFamilies(k: CoreCounts): CounterFamily[] {
  return [
    {
      name: 'netdrop_device_drops',
      help: 'Packets the devices of the traced namespace counted as dropped or in error (/proc/net/dev), since start.',
      samples: k.devices.map((d) => ({ labels: { device: d.device, direction: d.direction, counter: d.counter }, value: d.count })),
    },
    {
      name: 'netdrop_backlog_drops',
      help: 'Packets dropped because a CPU backlog queue was full (softnet_stat, all namespaces), since start.',
      samples: [...k.backlog].map(([cpu, n]) => ({ labels: { cpu: String(cpu) }, value: n })),
    },
  ]
}
