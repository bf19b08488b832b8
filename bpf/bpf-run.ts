// One run of the bpf backend: the objects that serve the run's kinds are
// opened with their configuration, loaded and attached; records are polled
// from their ring buffers (or counts sampled from their maps); close()
// drains what is left and releases every object, on every exit path.
import type { KindPlan, Run, RunRequest, RunStats, StartContext } from '../lib/backend.js'
import type { KindRequest } from '../lib/events.js'
import { ipv6Bytes, parseInetAddr } from '../lib/kernel/inet-addr.js'
import { collectGarbageNow, collectStartupGarbage } from '../lib/startup-garbage.js'
import { decodeEnv } from './decode-env.js'
import { COUNTER, encodeRodata, SUPPRESSED_KEY, type RunConfigValues } from './event-abi.js'
import type { KernelFeatures } from './kernel-features.js'
import { libbpf } from './libbpf.js'
import { LoadedObject } from './loaded-object.js'
import type { BpfKindPlan, BpfObjectDef, DecodeEnv } from './objects/object-def.js'
import { objectPath } from './object-path.js'

/** One object of the run and the kinds it serves. */
export interface ObjectUse {
  def: BpfObjectDef
  plans: BpfKindPlan[]
  requests: KindRequest[]
}

interface Loaded extends ObjectUse {
  obj: LoadedObject
  /** Cumulative counts already emitted, per map key (aggregating objects). */
  previous: Map<string, number>
}

export class BpfRun implements Run {
  readonly #ctx: StartContext
  readonly #env: DecodeEnv
  readonly #loaded: Loaded[] = []
  readonly #suppressedSeen = new Map<string, number>()
  #finalStats: RunStats | null = null

  private constructor(features: KernelFeatures, ctx: StartContext) {
    this.#ctx = ctx
    this.#env = decodeEnv(features, ctx.notice)
  }

  static start(run: RunRequest, uses: ObjectUse[], features: KernelFeatures, ctx: StartContext): BpfRun {
    const self = new BpfRun(features, ctx)
    try {
      const common = commonConfig(run, uses.flatMap((u) => u.plans), features)
      for (const use of uses) self.#open(use, run, common, features)
      self.#warmSoon(features)
      for (const l of self.#loaded) if (!l.def.aggregates) self.#poll(l)
    } catch (err) {
      self.close()
      throw err
    }
    return self
  }

  #open(use: ObjectUse, run: RunRequest, common: CommonConfig, features: KernelFeatures): void {
    const tool = use.def.config(use.requests, features)
    const obj = new LoadedObject()
    this.#loaded.push({ ...use, obj, previous: new Map() })
    obj.open({
      path: objectPath(use.def.file),
      programs: use.plans.flatMap((p) => p.programs),
      standby: use.plans.flatMap((p) => p.standby ?? []),
      allPrograms: [...use.def.allPrograms],
      rodata: (target, buffer) => encodeRodata(target, use.def.rodata, { ...common, usePerfBuffer: buffer === 'perf' }, tool),
      // Counting objects never use their ring buffer: keep it at one page.
      ringBytes: use.def.aggregates ? 4096 : run.bufferKb * 1024,
      buffer: features.eventBuffer(),
    })
  }

  /** Symbols, reason names and socket owners are loaded right after attaching,
   *  not at the first event (~150 ms that would delay it past short-lived
   *  flows). The BTF copy is collected before /proc/kallsyms is read: holding
   *  both (~5 MB each, plus their indexes) was the run's peak RSS. */
  #warmSoon(features: KernelFeatures): void {
    setTimeout(() => {
      if (features.tracepointArgs('kfree_skb') !== null) features.dropReasons()
      features.releaseBtf()
      collectGarbageNow()
      this.#env.kallsyms()
      for (const l of this.#loaded) l.def.warm?.(l.requests, this.#env)
      collectStartupGarbage(() => libbpf().trimHeap())
    }, 0)
  }

  #poll(l: Loaded): void {
    const decode = l.def.decoder(l.requests, this.#env)
    const sink = this.#ctx.sink
    l.obj.poll(
      (dv) => {
        const e = decode(dv)
        if (e) sink.event(e)
      },
      () => sink.batchEnd(),
      (err) => this.#ctx.fail(err),
      () => sink.ready(),
    )
  }

  stats(): RunStats {
    return this.#finalStats ?? this.#statsNow()
  }

  #statsNow(): RunStats {
    let lost = 0
    let suppressed = 0
    let hidden = 0
    for (const { obj } of this.#loaded) {
      // Ring-buffer reserve failures, and events the kernel skipped because the
      // program was already running on that CPU (a softirq interrupting it)
      // that no standby program emitted instead (covered is read first: the
      // kernel counts a miss before the standby runs, so misses ≥ covered —
      // where it counts them at all: 6.7+; before, standbys cover uncounted ones).
      const covered = obj.perCpuSum('counters', COUNTER.covered)
      lost += obj.perCpuSum('counters', COUNTER.lost) + Math.max(0, obj.recursionMisses() - covered) + obj.perfLost
      suppressed += obj.perCpuSum('counters', COUNTER.suppressed)
      hidden += obj.perCpuSum('counters', COUNTER.hiddenNotSpecified)
    }
    return { lost, unresolved: 0, malformed: 0, suppressed, hidden }
  }

  sample(): void {
    for (const l of this.#loaded) {
      for (const e of l.def.sample?.(l.obj, this.#env, l.previous) ?? []) this.#ctx.sink.event(e)
    }
    this.#ctx.sink.batchEnd()
  }

  takeSuppressed(): Array<{ key: string; count: number }> {
    const out: Array<{ key: string; count: number }> = []
    for (const { obj, def } of this.#loaded) {
      for (const [k, v] of obj.entries('suppressed', SUPPRESSED_KEY.size, 8)) {
        const kd = new DataView(k.buffer)
        const location = kd.getBigUint64(SUPPRESSED_KEY.fields.location, true)
        const reason = kd.getUint32(SUPPRESSED_KEY.fields.reason, true)
        const total = Number(new DataView(v.buffer).getBigUint64(0, true))
        const id = `${location}:${reason}`
        const delta = total - (this.#suppressedSeen.get(id) ?? 0)
        this.#suppressedSeen.set(id, total)
        if (delta > 0) out.push({ key: def.suppressedLabel(reason, location, this.#env), count: delta })
      }
    }
    return out
  }

  close(): void {
    if (this.#finalStats === null && this.#loaded.length > 0) {
      try {
        for (const { obj } of this.#loaded) obj.drain()
        this.#ctx.sink.batchEnd()
        this.#finalStats = this.#statsNow()
      } catch {
        // release the kernel objects below whatever happened
      }
    }
    for (const { obj } of this.#loaded) obj.close()
    this.#loaded.length = 0
  }
}

type CommonConfig = Omit<RunConfigValues, 'usePerfBuffer'>

/** The filters every object applies in the kernel (those all its hooks take there). */
function commonConfig(run: RunRequest, active: KindPlan[], features: KernelFeatures): CommonConfig {
  const inKernel = (name: 'family' | 'port' | 'addr' | 'netns' | 'reason') => active.every((k) => k.filters[name] === 'kernel')
  const f = run.filters
  return {
    family: inKernel('family') && f.family ? f.family : 0,
    ports: inKernel('port') ? f.ports : [],
    addrs: inKernel('addr') ? f.addrs.map(addrBytes) : [],
    netns: inKernel('netns') && f.netns ? f.netns : 0,
    reasons: inKernel('reason') ? f.reasons.map((r) => features.dropReasons().code(r) ?? -1).filter((c) => c >= 0) : [],
    rateLimit: run.rateLimit,
  }
}

/** 16-byte address as the programs store it (IPv4 v4-mapped). */
function addrBytes(text: string): Uint8Array {
  const a = parseInetAddr(text)
  const bytes = a ? ipv6Bytes(a.family === 4 ? `::ffff:${a.text}` : a.text) : null
  if (!bytes) throw new Error(`bad address ${text}`)
  return bytes
}
