// The eBPF backend: CO-RE objects (compiled, shipped in bpf/*.bpf.o) loaded
// through libbpf (koffi), tp_btf programs (BPF kprobes where the kernel has
// them), filters and rate limits applied in the kernel, records read from a
// ring buffer. Missing libbpf, BTF or privileges make it report itself
// unusable with the reason, so `--backend auto` falls back to ftrace.
import { existsSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Backend, BackendReport, HookTypeStatus, KindPlan, Run, RunRequest, StartContext } from '../lib/backend.js'
import type { EventKind } from '../lib/events.js'
import { CAP, hasCapability } from '../lib/kernel/capabilities.js'
import { parseInetAddr, ipv6Bytes } from '../lib/kernel/inet-addr.js'
import { Kallsyms } from '../lib/kernel/kallsyms.js'
import {
  COUNTER,
  encodeDropwatchConfig,
  encodeRodata,
  encodeTcpdropConfig,
  encodeTcpretransConfig,
  RODATA,
  SUPPRESSED_KEY,
  type RodataLayout,
  type RunConfigValues,
  type TcpdropConfigValues,
} from './event-abi.js'
import { KernelFeatures, VMLINUX_BTF } from './kernel-features.js'
import { libbpf } from './libbpf.js'
import { LoadedObject, type ObjectSpec } from './loaded-object.js'
import type { BpfKindPlan, BpfObjectDef, DecodeEnv } from './objects/object-def.js'
import { unusablePlan } from './objects/object-def.js'
import { dropwatchObject } from './objects/dropwatch.js'
import { tcpdropObject } from './objects/tcpdrop.js'
import { tcpretransObject } from './objects/tcpretrans.js'
import { SocketOwners } from '../lib/kernel/socket-owners.js'
import { collectGarbageNow, collectStartupGarbage } from '../lib/startup-garbage.js'

const OBJECTS: readonly BpfObjectDef[] = [tcpretransObject, tcpdropObject, dropwatchObject]

/** Compiled objects live in bpf/ of the package (dist/bpf/*.js → ../../bpf/). */
export function objectPath(file: string): string {
  return fileURLToPath(new URL(`../../bpf/${file}`, import.meta.url))
}

export class BpfBackend implements Backend {
  readonly name = 'bpf' as const
  #plans = new Map<EventKind, { plan: BpfKindPlan; def: BpfObjectDef }>()
  #features: KernelFeatures | null = null

  async probe(req: RunRequest): Promise<BackendReport> {
    const report: BackendReport = {
      backend: 'bpf',
      usable: false,
      reason: null,
      permissionDenied: false,
      rateLimitInKernel: true,
      hookTypes: { tracepoint: { usable: false, reason: null }, kprobe: { usable: false, reason: null } },
      kinds: [],
    }
    const unusable = (reason: string, permissionDenied = false): BackendReport => {
      report.reason = reason
      report.permissionDenied = permissionDenied
      report.hookTypes = { tracepoint: { usable: false, reason }, kprobe: { usable: false, reason } }
      report.kinds = req.kinds.map((k) => unusablePlan(k.kind, reason))
      return report
    }
    if (!hasCapability(CAP.SYS_ADMIN) && !(hasCapability(CAP.BPF) && hasCapability(CAP.PERFMON))) {
      return unusable('needs CAP_BPF and CAP_PERFMON (or root)', true)
    }
    let lib
    try {
      lib = libbpf()
    } catch (err) {
      return unusable((err as Error).message)
    }
    if (!existsSync(VMLINUX_BTF) || statSync(VMLINUX_BTF).size === 0) {
      return unusable(`kernel BTF missing (${VMLINUX_BTF}): CO-RE needs CONFIG_DEBUG_INFO_BTF`)
    }
    lib.setDebug(req.debug)
    const features = new KernelFeatures(lib)
    this.#features = features
    const kp = features.kprobes
    const tracepoints: HookTypeStatus = { usable: true, reason: null }
    const kprobes: HookTypeStatus = kp.usable ? { usable: true, reason: null } : { usable: false, reason: kp.reason }
    report.hookTypes = { tracepoint: tracepoints, kprobe: kprobes }
    for (const { kind } of req.kinds) {
      const def = OBJECTS.find((o) => o.kinds.includes(kind))
      if (!def) {
        report.kinds.push(unusablePlan(kind, 'not implemented in the bpf backend yet'))
        continue
      }
      if (!existsSync(objectPath(def.file))) {
        report.kinds.push(unusablePlan(kind, `compiled object ${def.file} missing (npm run build:bpf)`))
        continue
      }
      const plan = def.plan(kind, features, req)
      if (plan.usable && kind === 'tcp-retransmit' && req.fields.includes('seq') && !plan.fields.includes('seq')) {
        plan.usable = false
        plan.reason = `--seq: ${plan.hook} gives no sequence number`
      }
      this.#plans.set(kind, { plan, def })
      report.kinds.push(plan)
    }
    const missing = report.kinds.filter((p) => !p.usable && req.kinds.some((k) => k.required && k.kind === p.kind))
    report.usable = missing.length === 0
    if (!report.usable) report.reason = missing.map((p) => `${p.kind}: ${p.reason}`).join('; ')
    return report
  }

  async start(req: RunRequest, report: BackendReport, ctx: StartContext): Promise<Run> {
    const active = report.kinds.filter((k) => k.usable)
    const byDef = new Map<BpfObjectDef, string[]>()
    for (const k of active) {
      const entry = this.#plans.get(k.kind)
      if (!entry) continue
      byDef.set(entry.def, [...(byDef.get(entry.def) ?? []), ...entry.plan.programs])
    }
    let kallsyms: Kallsyms | null | undefined
    const features = this.#features
    if (!features) throw new Error('bpf backend started before probe')
    const owners = new SocketOwners()
    const symbols = new Map<bigint, string>()
    const env: DecodeEnv = {
      req,
      kallsyms: () => {
        if (kallsyms === undefined) {
          try {
            kallsyms = Kallsyms.load()
            if (kallsyms.hidden) ctx.notice('kernel addresses are hidden (kptr_restrict): stacks and locations print as raw addresses')
          } catch {
            kallsyms = null
          }
        }
        return kallsyms ?? null
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
      hasReason: (features.tracepointArgs('kfree_skb') ?? 0) >= 3,
    }
    const samples = new Map<LoadedObject, Map<string, number>>()
    const loaded: Array<{ obj: LoadedObject; def: BpfObjectDef }> = []
    let finalStats: ReturnType<Run['stats']> | null = null
    const suppressedSeen = new Map<string, number>()
    const statsNow = () => {
      let lost = 0
      let suppressed = 0
      let hiddenNotSpecified = 0
      for (const { obj } of loaded) {
        // Ring-buffer reserve failures, and events the kernel skipped because the
        // program was already running on that CPU (a softirq interrupting it).
        lost += obj.perCpuSum('counters', COUNTER.lost) + obj.recursionMisses() + obj.perfLost
        suppressed += obj.perCpuSum('counters', COUNTER.suppressed)
        hiddenNotSpecified += obj.perCpuSum('counters', COUNTER.hiddenNotSpecified)
      }
      return { lost, unresolved: 0, malformed: 0, suppressed, hiddenNotSpecified }
    }
    const run: Run = {
      stats: () => finalStats ?? statsNow(),
      sample: () => {
        for (const { obj, def } of loaded) {
          if (!def.sample) continue
          const previous = samples.get(obj) ?? new Map<string, number>()
          samples.set(obj, previous)
          for (const e of def.sample(obj, env, previous)) ctx.sink.event(e)
        }
        ctx.sink.batchEnd()
      },
      takeSuppressed: () => {
        const out: Array<{ key: string; count: number }> = []
        for (const { obj, def } of loaded) {
          for (const [k, v] of obj.entries('suppressed', SUPPRESSED_KEY.size, 8)) {
            const kd = new DataView(k.buffer)
            const location = kd.getBigUint64(SUPPRESSED_KEY.fields.location, true)
            const reason = kd.getUint32(SUPPRESSED_KEY.fields.reason, true)
            const total = Number(new DataView(v.buffer).getBigUint64(0, true))
            const label = def.suppressedLabel(reason, location, env)
            const id = `${location}:${reason}`
            const delta = total - (suppressedSeen.get(id) ?? 0)
            suppressedSeen.set(id, total)
            if (delta > 0) out.push({ key: label, count: delta })
          }
        }
        return out
      },
      close: () => {
        if (finalStats === null && loaded.length > 0) {
          try {
            for (const { obj } of loaded) obj.drain()
            ctx.sink.batchEnd()
            finalStats = statsNow()
          } catch {
            // release the kernel objects below whatever happened
          }
        }
        for (const { obj } of loaded) obj.close()
        loaded.length = 0
      },
    }
    const config = filterConfig(req, active, features)
    try {
      for (const [def, programs] of byDef) {
        const obj = new LoadedObject()
        loaded.push({ obj, def })
        // Counting objects never use their ring buffer: keep it at one page.
        obj.open({
          path: objectPath(def.file),
          programs,
          allPrograms: [...def.allPrograms],
          rodata: config(def.file),
          ringBytes: def.aggregates ? 4096 : req.bufferKb * 1024,
          buffer: features.eventBuffer(),
        })
      }
      // Symbols, reason names and socket owners are loaded now, not at the first
      // event (~150 ms of work that would delay it past short-lived flows).
      // The BTF copy is collected before /proc/kallsyms is read: holding both
      // (~5 MB each, plus their indexes) was the run's peak RSS.
      setTimeout(() => {
        if (features.tracepointArgs('kfree_skb') !== null) features.dropReasons()
        features.releaseBtf()
        collectGarbageNow()
        env.kallsyms()
        if (req.owner) owners.warm()
        collectStartupGarbage(() => libbpf().trimHeap())
      }, 0)
      for (const { obj, def } of loaded) {
        if (def.aggregates) continue
        obj.poll(
          (dv) => {
            const e = def.decode(dv, env)
            if (e) ctx.sink.event(e)
          },
          () => ctx.sink.batchEnd(),
          (err) => ctx.fail(err),
          () => ctx.sink.ready(),
        )
      }
    } catch (err) {
      run.close()
      throw err
    }
    return run
  }
}

/** Each object's .rodata: the common run config, then its own knobs. */
function filterConfig(req: RunRequest, active: KindPlan[], features: KernelFeatures): (file: string) => ObjectSpec['rodata'] {
  const inKernel = (name: 'family' | 'port' | 'addr' | 'netns' | 'reason') => active.every((k) => k.filters[name] === 'kernel')
  const f = req.filters
  const run: Omit<RunConfigValues, 'usePerfBuffer'> = {
    family: inKernel('family') && f.family ? f.family : 0,
    ports: inKernel('port') ? f.ports : [],
    addrs: inKernel('addr') ? f.addrs.map(addrBytes) : [],
    netns: inKernel('netns') && f.netns ? f.netns : 0,
    reasons: inKernel('reason') ? f.reasons.map((r) => features.dropReasons().code(r) ?? -1).filter((c) => c >= 0) : [],
    rateLimit: req.rateLimit,
  }
  const wantStack = req.fields.includes('stack')
  const tcpdrop: TcpdropConfigValues = {
    wantStack,
    stackRate: req.stackRate,
    hideNotSpecified: req.hideNotSpecified,
    notSpecifiedCode: req.hideNotSpecified ? (features.dropReasons().code('NOT_SPECIFIED') ?? 0xffffffff) : 0xffffffff,
    wantOwner: req.owner,
  }
  const tools: Record<string, [RodataLayout, (dv: DataView, at: number) => void]> = {
    'tcpdrop.bpf.o': [RODATA.tcpdrop, (dv, at) => encodeTcpdropConfig(dv, at, tcpdrop)],
    'tcpretrans.bpf.o': [RODATA.tcpretrans, (dv, at) => encodeTcpretransConfig(dv, at, { wantStack, includeFailed: req.includeFailed })],
    'dropwatch.bpf.o': [RODATA.dropwatch, (dv, at) => encodeDropwatchConfig(dv, at, { groupByDev: req.fields.includes('dev') })],
  }
  return (file) => {
    const tool = tools[file]
    if (!tool) throw new Error(`no .rodata layout for ${file}`)
    return (target, buffer) => encodeRodata(target, tool[0], { ...run, usePerfBuffer: buffer === 'perf' }, tool[1])
  }
}

/** 16-byte address as the programs store it (IPv4 v4-mapped). */
function addrBytes(text: string): Uint8Array {
  const a = parseInetAddr(text)
  const bytes = a ? ipv6Bytes(a.family === 4 ? `::ffff:${a.text}` : a.text) : null
  if (!bytes) throw new Error(`bad address ${text}`)
  return bytes
}
