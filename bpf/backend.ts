// The eBPF backend: CO-RE objects (compiled, shipped in bpf/*.bpf.o) loaded
// through libbpf (koffi), tp_btf programs (BPF kprobes where the kernel has
// them), filters and rate limits applied in the kernel, records read from a
// ring buffer. Missing libbpf, BTF or privileges make it report itself
// unusable with the reason, so `--backend auto` falls back to ftrace.
import { existsSync, statSync } from 'node:fs'
import type { Backend, BackendReport, Probe, RunRequest } from '../lib/backend.js'
import { settleUsable, unusableProbe, unusableReport } from '../lib/backend.js'
import type { KindRequest } from '../lib/events.js'
import { CAP, hasCapability } from '../lib/kernel/capabilities.js'
import { BpfRun, type ObjectUse } from './bpf-run.js'
import { KernelFeatures, VMLINUX_BTF } from './kernel-features.js'
import { libbpf } from './libbpf.js'
import { objectPath } from './object-path.js'
import { unusableBpfPlan, type BpfKindPlan } from './objects/object-def.js'
import { BPF_HOOKS } from './registry.js'

export class BpfBackend implements Backend {
  readonly name = 'bpf' as const

  async probe(run: RunRequest, kinds: readonly KindRequest[]): Promise<Probe> {
    const problem = unusableBecause()
    if (problem) return unusableProbe(unusableReport('bpf', kinds, problem.reason, problem.permissionDenied))
    const lib = libbpf()
    lib.setDebug(run.debug)
    const features = new KernelFeatures(lib)
    const kp = features.kprobes
    const report: BackendReport = {
      backend: 'bpf',
      usable: false,
      reason: null,
      permissionDenied: false,
      rateLimitInKernel: true,
      hookTypes: { tracepoint: { usable: true, reason: null }, kprobe: kp.usable ? { usable: true, reason: null } : { usable: false, reason: kp.reason } },
      kinds: [],
    }
    const plans = new Map<BpfKindPlan, KindRequest>()
    for (const request of kinds) {
      const plan = planKind(request, features, run)
      report.kinds.push(plan)
      plans.set(plan, request)
    }
    settleUsable(report, kinds)
    return { report, start: async (ctx) => BpfRun.start(run, objectUses(plans), features, ctx) }
  }
}

/** The sysctl exists exactly when the kernel has the bpf() system call
 *  (kernel/bpf/syscall.c, CONFIG_BPF_SYSCALL), whatever its value. */
const BPF_SYSCTL = '/proc/sys/kernel/unprivileged_bpf_disabled'

/** Why nothing can run on bpf here (kernel, privilege, libbpf, BTF), or null. */
function unusableBecause(): { reason: string; permissionDenied: boolean } | null {
  if (!existsSync(BPF_SYSCTL)) {
    return { reason: `this kernel has no bpf() system call (built without CONFIG_BPF_SYSCALL: ${BPF_SYSCTL} is missing)`, permissionDenied: false }
  }
  if (!hasCapability(CAP.SYS_ADMIN) && !(hasCapability(CAP.BPF) && hasCapability(CAP.PERFMON))) {
    return { reason: 'needs CAP_BPF and CAP_PERFMON (or root)', permissionDenied: true }
  }
  try {
    libbpf()
  } catch (err) {
    return { reason: (err as Error).message, permissionDenied: false }
  }
  if (!existsSync(VMLINUX_BTF) || statSync(VMLINUX_BTF).size === 0) {
    return { reason: `kernel BTF missing (${VMLINUX_BTF}): the kernel was built without CONFIG_DEBUG_INFO_BTF, and the shipped CO-RE programs need its type information`, permissionDenied: false }
  }
  return null
}

function planKind(request: KindRequest, features: KernelFeatures, run: RunRequest): BpfKindPlan {
  const def = BPF_HOOKS[request.kind]
  if (!def) return unusableBpfPlan(request.kind, 'not implemented in the bpf backend yet')
  if (!existsSync(objectPath(def.file))) return unusableBpfPlan(request.kind, `compiled object ${def.file} missing (npm run build:bpf)`)
  return def.plan(request, features, run)
}

/** The usable plans (read when the run starts: the generic rules may have
 *  struck some since probing), grouped by the object that serves them. */
function objectUses(plans: Map<BpfKindPlan, KindRequest>): ObjectUse[] {
  const uses = new Map<string, ObjectUse>()
  for (const [plan, request] of plans) {
    const def = BPF_HOOKS[request.kind]
    if (!plan.usable || !def) continue
    const use = uses.get(def.file) ?? { def, plans: [], requests: [] }
    use.plans.push(plan)
    use.requests.push(request)
    uses.set(def.file, use)
  }
  return [...uses.values()]
}
