import t from 'tap'
import { parseFormat } from '../../ftrace/format.js'
import { buildContext, decodeKfreeSkb, kernelFilter, locationMode, skbDropCount, type KfreeSkbContext } from '../../ftrace/hooks/skb-drop-count.js'
import { parseTraceLine } from '../../ftrace/trace-line.js'
import type { RunRequest } from '../../lib/backend.js'
import type { Filters } from '../../lib/filters.js'
import { Kallsyms } from '../../lib/kernel/kallsyms.js'
import { fixture } from '../lib/fixtures.js'
import { kindRequest, testRequest, withRules } from '../lib/request.js'

const req = (filters: Partial<Filters> = {}): RunRequest => testRequest({ tool: 'dropwatch' }, filters)
const counts = (groupByDev = false) => kindRequest('skb-drop-count', { options: { groupByDev }, fields: groupByDev ? { dev: '--by dev' } : {} })
/** The hook's plan on a fixture format, the generic rules applied. */
const planned = (fmt: ReturnType<typeof parseFormat>, run: RunRequest, request = counts()) =>
  withRules(skbDropCount.plan(fmt, request, run).info, request, run, 'tracepoint skb:kfree_skb')

/** kallsyms of the guest boot, rebuilt from the fixture's resolved locations (address − offset = symbol). */
function guestKallsyms(kernel: string): Kallsyms {
  const lines: string[] = []
  for (const l of fixture(kernel, 'kallsyms-locations.txt').trim().split('\n')) {
    const m = /^([0-9a-f]+) (\S+)\+0x([0-9a-f]+)(?: \[(\S+)\])? \((\w)\)/.exec(l)
    if (!m) continue
    const base = BigInt('0x' + m[1]) - BigInt('0x' + m[3])
    lines.push(`${base.toString(16)} ${m[5]} ${m[2]}${m[4] ? `\t[${m[4]}]` : ''}`)
  }
  return Kallsyms.parse(lines.join('\n'))
}

function ctxFor(kernel: string, hashPtr: boolean, r = req(), kallsyms: Kallsyms | null = null): { ctx: KfreeSkbContext; fmt: ReturnType<typeof parseFormat> } {
  const fmt = parseFormat(fixture(kernel, 'skb__kfree_skb.format'))
  // Reason numbers of that kernel come from its own format file (no BTF of the guest here).
  const ctx = buildContext(fmt, r.filters.reasons, { hashPtrOption: hashPtr, kallsyms: () => kallsyms, btfPath: '/nonexistent/btf' })
  return { ctx, fmt }
}

function decodeAll(text: string, ctx: KfreeSkbContext) {
  const out = []
  for (const raw of text.split('\n')) {
    const l = parseTraceLine(raw)
    if (l?.type === 'event' && l.event === 'kfree_skb') out.push(decodeKfreeSkb(l.body, ctx))
  }
  return out
}

t.test('6.18: %pS locations as printed, reasons, protocol → family', async (t) => {
  const { ctx, fmt } = ctxFor('6.18', true)
  t.equal(locationMode(fmt, true), 'symbolic')
  const events = decodeAll(fixture('6.18', 'trace_pipe-kfree_skb.txt'), ctx)
  t.ok(events.length >= 10)
  t.ok(events.every((e) => e !== null && e.count === 1), 'every line decodes, count 1')
  t.match(events.find((e) => e?.location === 'nft_do_chain+0x5ad'), { reason: 'NETFILTER_DROP', reasonCode: 12, protocol: 2048, family: 4 })
  t.match(events.find((e) => e?.location === 'tcp_v4_rcv+0x91'), { reason: 'NO_SOCKET', reasonCode: 3, family: 4 })
  t.match(events.find((e) => e?.location === 'tcp_v6_rcv+0x34f'), { reason: 'NO_SOCKET', family: 6, protocol: 34525 })
  t.notOk(events.some((e) => e?.location.includes('/0x')), 'function size dropped, as in stacks')
})

t.test('%pS of a module symbol keeps [module]; unsymbolized %pS keeps the pointer', async (t) => {
  const { ctx } = ctxFor('6.18', true)
  const e = decodeKfreeSkb('skbaddr=00000000a rx_sk=0000000000000000 protocol=2048 location=nft_do_chain+0x47f/0x5e0 [nf_tables] reason: NETFILTER_DROP', ctx)
  t.match(e, { location: 'nft_do_chain+0x47f [nf_tables]', reason: 'NETFILTER_DROP' })
  const raw = decodeKfreeSkb('skbaddr=0 rx_sk=0 protocol=2048 location=0xffffffffc0001234 reason: NO_SOCKET', ctx)
  t.match(raw, { location: '0xffffffffc0001234', address: 'ffffffffc0001234' })
  const sub = decodeKfreeSkb('skbaddr=0 rx_sk=0 protocol=2048 location=foo+0x1/0x2 reason: 0x30001', ctx)
  t.match(sub, { reason: String(0x30001), reasonCode: 0x30001 }, 'an unnamed subsystem reason prints as its number')
})

t.test('6.1: %p hashed → hash-ptr off, raw pointers symbolized with kallsyms', async (t) => {
  const { ctx } = ctxFor('6.1', true, req(), guestKallsyms('6.1'))
  t.equal(ctx.mode, 'hashed')
  const events = decodeAll(fixture('6.1', 'trace_pipe-rawptr.txt'), ctx)
  t.equal(events.length, 12)
  const nft = events.find((e) => e?.address === 'ffffffffc02f854f')
  t.match(nft, { location: 'nft_do_chain+0x47f [nf_tables]', family: 4 })
  t.match(events.find((e) => e?.address === 'ffffffff818ac491'), { location: 'tcp_v4_rcv+0x81' })
  // Measured on 6.1: with hash-ptr off the first __print_symbolic prints empty.
  t.ok(events.every((e) => e?.reason === null && e.reasonCode === null), 'empty reason text → null, never a wrong name')
})

t.test('6.1 with one --reason: the kernel filter makes the reason known', async (t) => {
  const r = req({ reasons: ['NETFILTER_DROP'] })
  const { ctx } = ctxFor('6.1', true, r, guestKallsyms('6.1'))
  t.same(ctx.reasonCodes, [7], 'reason number of that kernel for the kernel filter')
  const e = decodeKfreeSkb('skbaddr=ffff8880051248e8 protocol=2048 location=ffffffffc02f854f reason: ', ctx)
  t.match(e, { reason: 'NETFILTER_DROP', reasonCode: 7 })
})

t.test('6.1 hashed pointers when kallsyms is unusable: the hashed id is kept', async (t) => {
  const { ctx } = ctxFor('6.1', true, req(), null)
  const events = decodeAll(fixture('6.1', 'trace_pipe-nostack.txt'), ctx)
  t.ok(events.length > 0)
  t.match(events[0], { location: '00000000ec356f43', reason: 'NETFILTER_DROP', reasonCode: 7 })
})

t.test('5.10: raw %p (no hash-ptr option), no reason field', async (t) => {
  const { ctx } = ctxFor('5.10', false, req(), guestKallsyms('5.10'))
  t.equal(ctx.mode, 'raw')
  t.equal(ctx.hasReason, false)
  const events = decodeAll(fixture('5.10', 'trace_pipe-nostack.txt'), ctx)
  t.equal(events.length, 64)
  t.match(events.find((e) => e?.address === 'ffffffff817aec93'), { location: 'nf_hook_slow+0x93', reason: null, family: 4 })
  t.match(events.find((e) => e?.address === 'ffffffff8188e160'), { location: 'tcp_v6_rcv+0x160', family: 6 })
  t.equal(kernelFilter(ctx, req({ family: 6 })), 'protocol == 34525')
})

t.test('plan and kernel filter on the 6.18 layout', async (t) => {
  const fmt = parseFormat(fixture('6.18', 'skb__kfree_skb.format'))
  const r = req({ family: 4, reasons: ['NETFILTER_DROP', 'NO_SOCKET'] })
  const plan = planned(fmt, r)
  t.equal(plan.usable, true)
  t.match(plan.filters, { family: 'kernel', reason: 'kernel', netns: 'none', port: 'none', addr: 'none' })
  t.ok(plan.fields.includes('location:%pS'))
  const run = skbDropCount.plan(fmt, counts(), r).open()
  t.equal(run.kernelFilter, 'protocol == 2048 && (reason == 12 || reason == 3)')
  t.same(run.instanceOptions, {}, '%pS needs no option change')
  const bad = planned(parseFormat(fixture('6.18', 'skb__kfree_skb.format')), req({ reasons: ['NOPE'] }))
  t.equal(bad.usable, false)
  t.match(bad.reason, /--reason NOPE: not a drop reason of this kernel/)
  const dev = planned(parseFormat(fixture('6.18', 'skb__kfree_skb.format')), req(), counts(true))
  t.match(dev, { usable: false, reason: /^--by dev: skb:kfree_skb has no device field/ })
})

t.test('5.10 plan: --reason cannot be applied, and the banner note says what counts', async (t) => {
  const fmt = parseFormat(fixture('5.10', 'skb__kfree_skb.format'))
  const plan = planned(fmt, req())
  t.equal(plan.filters.reason, 'none')
  t.ok(plan.cannotSee.some((c) => /every kfree_skb\(\) counts/.test(c)))
})

t.test('lines that are not kfree_skb bodies give null', async (t) => {
  const { ctx } = ctxFor('6.18', true)
  for (const bad of ['', 'skbaddr=1', 'protocol=x location=y', 'protocol=2048']) t.equal(decodeKfreeSkb(bad, ctx), null)
})
