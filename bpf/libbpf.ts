// The koffi binding to libbpf.so.1 (Debian/Ubuntu package libbpf1, ABI 1.x).
// Only the calls the backend uses. libbpf 1.x reports errors as NULL + errno
// (pointer results) or a negative errno (int results); both become LibbpfError.
import { closeSync } from 'node:fs'
import { createRequire } from 'node:module'
import { constants } from 'node:os'
import type * as KoffiTypes from 'koffi'
import { RingReader, type MappedMemory } from './ring-reader.js'

type Koffi = typeof KoffiTypes
type Fn = (...args: unknown[]) => unknown

export class LibbpfError extends Error {
  readonly errno: number
  constructor(what: string, errno: number, detail?: string) {
    const name = errnoName(errno)
    super(`${what}: ${name}${detail ? ` (${detail})` : ''}`)
    this.errno = errno
  }
}

/** libbpf's own error codes (libbpf.h, enum libbpf_errno, from 4000). */
const LIBBPF_ERRNO = ['LIBELF', 'FORMAT', 'KVERSION', 'ENDIAN', 'INTERNAL', 'RELOC', 'LOAD', 'VERIFY', 'PROG2BIG', 'KVER', 'PROGTYPE', 'WRNGPID', 'INVSEQ', 'NLPARSE']

export function errnoName(errno: number): string {
  for (const [name, n] of Object.entries(constants.errno)) if (n === errno) return name
  const libbpf = LIBBPF_ERRNO[errno - 4000]
  if (libbpf) return `LIBBPF_ERRNO__${libbpf}`
  return `errno ${errno}`
}

export type Pointer = bigint

export interface EventBuffer {
  /** Hands available records to onSample, at most a budget's worth; true when
   *  it stopped at the budget (more may be waiting). */
  consume(): boolean
  free(): void
}

/** Records per ring-buffer consume call: a reader that loops for as long as
 *  the producer keeps up (as libbpf 1.1's ring_buffer__consume does) never
 *  returns to flush output under a storm (memory grew to 1.4 GB in a benchmark). */
const RING_BUDGET = 16384

export interface Libbpf {
  koffi: Koffi
  openFile(path: string): Pointer
  close(obj: Pointer): void
  findProgram(obj: Pointer, name: string): Pointer
  setAutoload(prog: Pointer, on: boolean): void
  findMap(obj: Pointer, name: string): Pointer
  setMaxEntries(map: Pointer, n: number): void
  /** The map's initial data (.rodata) as a writable view, before load. */
  initialValue(map: Pointer): Uint8Array
  mapFd(map: Pointer): number
  load(obj: Pointer): void
  attach(prog: Pointer, what: string): Pointer
  destroyLink(link: Pointer): void
  /** Reads records from the `events` map: a BPF ring buffer (5.8+) or, on older
   *  kernels, a perf buffer (`perCpuPages` pages per CPU; onLost gets its losses). */
  openEventBuffer(kind: 'ring' | 'perf', mapFd: number, perCpuPages: number, onSample: (data: DataView) => void, onLost: (n: number) => void): EventBuffer
  /** Whether the kernel has BPF ring buffers (libbpf's feature probe). */
  ringBufferSupported(): boolean
  /** Turns the `events` map into a perf event array (before load). */
  makePerfEventArray(map: Pointer): void
  lookup(fd: number, key: Uint8Array, value: Uint8Array): boolean
  nextKey(fd: number, key: Uint8Array | null, next: Uint8Array): boolean
  deleteElem(fd: number, key: Uint8Array): void
  possibleCpus(): number
  /** Times the kernel skipped the program because it was already running on
   *  that CPU (bpf_prog_info.recursion_misses, 5.12+; 0 before). */
  recursionMisses(prog: Pointer): number
  /** The kernel's BTF (vmlinux, `size` bytes as /sys/kernel/btf/vmlinux says)
   *  copied out by the bpf() syscall; null where that is refused (it needs
   *  CAP_SYS_ADMIN), cannot name the BTF (before 5.11) or the first BTF id is
   *  not vmlinux: then read the file. */
  vmlinuxBtf(size: number): Buffer | null
  /** Gives freed C heap (libbpf's copy of the kernel BTF after CO-RE relocation) back to the OS. */
  trimHeap(): void
  /** libbpf's own log lines (captured, and echoed with --debug). */
  log: string[]
  setDebug(on: boolean): void
}

let cached: Libbpf | null = null
let loadError: string | null = null

/** Loads libbpf.so.1 once; throws with the reason when it is missing. */
export function libbpf(): Libbpf {
  if (cached) return cached
  if (loadError) throw new Error(loadError)
  try {
    cached = bind()
    return cached
  } catch (err) {
    loadError = (err as Error).message
    throw err
  }
}

function bind(): Libbpf {
  const require = createRequire(import.meta.url)
  let koffi: Koffi
  try {
    koffi = require('koffi') as Koffi
  } catch (err) {
    throw new Error(`cannot load koffi (the FFI module): ${(err as Error).message}`)
  }
  let lib: KoffiTypes.LibraryHandle
  try {
    lib = koffi.load('libbpf.so.1')
  } catch {
    throw new Error('libbpf.so.1 not found (install the libbpf1 package)')
  }
  const libc = koffi.load('libc.so.6')
  // glibc raises its mmap threshold after a large free (up to 32 MB); from then on
  // start-up's 5 MB buffers (BTF, /proc/kallsyms) come from the brk heap, which
  // cannot always give them back: idle RSS was 9 MB higher in every other run. A
  // fixed threshold keeps large blocks in mappings of their own, unmapped at free.
  ;(libc.func('int mallopt(int param, int value)') as Fn)(-3 /* M_MMAP_THRESHOLD */, 256 * 1024)
  // Each prototype is parsed on its first call: declaring all ~40 up front
  // cost ~4 ms of every start, and a run uses about half of them.
  const f = (decl: string): Fn => {
    let fn: Fn | null = null
    return (...args: unknown[]) => (fn ??= lib.func(decl) as Fn)(...args)
  }
  const api = {
    openFile: f('void *bpf_object__open_file(const char *path, void *opts)'),
    close: f('void bpf_object__close(void *obj)'),
    findProgram: f('void *bpf_object__find_program_by_name(void *obj, const char *name)'),
    setAutoload: f('int bpf_program__set_autoload(void *prog, bool autoload)'),
    findMap: f('void *bpf_object__find_map_by_name(void *obj, const char *name)'),
    setMaxEntries: f('int bpf_map__set_max_entries(void *map, uint32_t n)'),
    initialValue: f('void *bpf_map__initial_value(void *map, _Out_ size_t *size)'),
    mapFd: f('int bpf_map__fd(void *map)'),
    load: f('int bpf_object__load(void *obj)'),
    attach: f('void *bpf_program__attach(void *prog)'),
    destroyLink: f('int bpf_link__destroy(void *link)'),
    pbNew: f('void *perf_buffer__new(int fd, size_t pages, void *sample, void *lost, void *ctx, void *opts)'),
    pbConsume: f('int perf_buffer__consume(void *pb)'),
    pbFree: f('void perf_buffer__free(void *pb)'),
    probeMapType: f('int libbpf_probe_bpf_map_type(int type, void *opts)'),
    setType: f('int bpf_map__set_type(void *map, int type)'),
    setKeySize: f('int bpf_map__set_key_size(void *map, uint32_t size)'),
    setValueSize: f('int bpf_map__set_value_size(void *map, uint32_t size)'),
    lookup: f('int bpf_map_lookup_elem(int fd, const void *key, _Out_ void *value)'),
    nextKey: f('int bpf_map_get_next_key(int fd, const void *key, _Out_ void *next)'),
    deleteElem: f('int bpf_map_delete_elem(int fd, const void *key)'),
    possibleCpus: f('int libbpf_num_possible_cpus(void)'),
    setPrint: f('void *libbpf_set_print(void *fn)'),
    progFd: f('int bpf_program__fd(void *prog)'),
    objInfo: f('int bpf_obj_get_info_by_fd(int fd, _Inout_ uint8_t *info, _Inout_ uint32_t *len)'),
    btfNextId: f('int bpf_btf_get_next_id(uint32_t start, _Out_ uint32_t *next)'),
    btfFdById: f('int bpf_btf_get_fd_by_id(uint32_t id)'),
  }
  const mallocTrim = libc.func('int malloc_trim(size_t pad)') as Fn
  const mmap = libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)') as Fn
  const munmap = libc.func('int munmap(void *addr, size_t length)') as Fn
  const sysconf = libc.func('long sysconf(int name)') as Fn
  const PAGE_SIZE = Number(sysconf(30 /* _SC_PAGESIZE */))
  // ArrayBuffers over mmap'ed memory, and where each mapping starts (for munmap).
  const mapped = new WeakMap<ArrayBuffer, { addr: unknown; len: number }>()
  const memory: MappedMemory = {
    map: (fd, len, writable, offset) => {
      const addr = mmap(null, len, writable ? 3 : 1 /* PROT_READ|PROT_WRITE : PROT_READ */, 1 /* MAP_SHARED */, fd, offset)
      if (isNull(addr) || addr === 0xffffffffffffffffn || addr === -1n) throw new LibbpfError('mmap of the ring buffer', koffi.errno())
      const buf = koffi.view(addr, len) as ArrayBuffer
      mapped.set(buf, { addr, len })
      return buf
    },
    unmap: (buf) => {
      const m = mapped.get(buf)
      if (m) void munmap(m.addr, m.len)
      mapped.delete(buf)
    },
  }
  /** bpf_obj_get_info_by_fd: the first `size` bytes of a map's, program's or
   *  BTF's info struct, and how many of them this kernel filled; null on
   *  failure. `ask` sets the fields the kernel reads first (buffers to fill). */
  const objInfo = (fd: number, size: number, ask?: (info: DataView) => void): { info: DataView; len: number } | null => {
    const info = new DataView(new ArrayBuffer(size))
    ask?.(info)
    const len = [size]
    if (fd < 0 || (api.objInfo(fd, new Uint8Array(info.buffer), len) as number) !== 0) return null
    return { info, len: len[0] ?? 0 }
  }
  /** max_entries of a map (struct bpf_map_info: u32 at 16), from its fd. */
  const maxEntries = (fd: number): number => {
    const got = objInfo(fd, 96)
    if (!got) throw new LibbpfError('bpf_obj_get_info_by_fd', koffi.errno())
    return got.info.getUint32(16, true)
  }
  const vsnprintf = libc.func('int vsnprintf(_Out_ uint8_t *buf, size_t size, const char *fmt, void *ap)') as Fn
  const isNull = (p: unknown) => p === null || p === 0n || p === undefined
  const check = (what: string, rc: unknown) => {
    if (typeof rc === 'number' && rc < 0) throw new LibbpfError(what, -rc, lastLog())
  }
  const nonNull = (what: string, p: unknown): Pointer => {
    if (isNull(p)) throw new LibbpfError(what, koffi.errno(), lastLog())
    return p as Pointer
  }

  const log: string[] = []
  let debug = false
  const lastLog = () => log.slice(-3).join(' | ').slice(0, 500) || undefined
  const PrintFn = koffi.proto('int netdrop_libbpf_print(int level, const char *fmt, void *ap)')
  const printBuf = new Uint8Array(4096)
  const printCb = koffi.register((level: number, fmt: string, ap: unknown) => {
    // Debug messages (level 2) come by the hundred during CO-RE relocation:
    // formatted and kept only with --debug.
    if (level >= 2 && !debug) return 0
    const n = vsnprintf(printBuf, printBuf.length, fmt, ap) as number
    const text = Buffer.from(printBuf.subarray(0, Math.max(0, Math.min(n, printBuf.length - 1)))).toString('utf8').trimEnd()
    if (log.length > 200) log.splice(0, 100)
    log.push(text)
    if (debug || level === 0) {
      // level 0 = warnings; shown only with --debug, like libbpf-tools' -v.
      if (debug) process.stderr.write(`libbpf: ${text}\n`)
    }
    return 0
  }, koffi.pointer(PrintFn))
  api.setPrint(printCb)

  const PerfSampleFn = koffi.proto('void netdrop_pb_sample(void *ctx, int cpu, void *data, uint32_t size)')
  const PerfLostFn = koffi.proto('void netdrop_pb_lost(void *ctx, int cpu, uint64_t count)')
  const BPF_MAP_TYPE = { PERF_EVENT_ARRAY: 4, RINGBUF: 27 }

  return {
    koffi,
    log,
    setDebug: (on) => {
      debug = on
    },
    openFile: (path) => {
      const p = api.openFile(path, null)
      return nonNull(`opening ${path}`, p)
    },
    close: (obj) => void api.close(obj),
    findProgram: (obj, name) => nonNull(`program ${name}`, api.findProgram(obj, name)),
    setAutoload: (prog, on) => check('set_autoload', api.setAutoload(prog, on)),
    findMap: (obj, name) => nonNull(`map ${name}`, api.findMap(obj, name)),
    setMaxEntries: (map, n) => check('set_max_entries', api.setMaxEntries(map, n)),
    initialValue: (map) => {
      const size = [0]
      const p = nonNull('initial value', api.initialValue(map, size))
      return new Uint8Array(koffi.view(p, Number(size[0])))
    },
    mapFd: (map) => api.mapFd(map) as number,
    load: (obj) => check('loading BPF programs', api.load(obj)),
    attach: (prog, what) => nonNull(`attaching ${what}`, api.attach(prog)),
    destroyLink: (link) => void api.destroyLink(link),
    openEventBuffer: (kind, fd, perCpuPages, onSample, onLost) => {
      if (kind === 'ring') return new RingReader(memory, fd, maxEntries(fd), PAGE_SIZE, RING_BUDGET, onSample)
      const sample = koffi.register((_ctx: unknown, _cpu: number, data: unknown, size: number) => {
        onSample(new DataView(koffi.view(data, size)))
      }, koffi.pointer(PerfSampleFn))
      const lost = koffi.register((_ctx: unknown, _cpu: number, count: number | bigint) => onLost(Number(count)), koffi.pointer(PerfLostFn))
      const pb = nonNull('perf_buffer__new', api.pbNew(fd, perCpuPages, sample, lost, null, null))
      return {
        consume: () => {
          // Each CPU's buffer is read up to the head seen at the start: bounded.
          const n = api.pbConsume(pb) as number
          if (n < 0) throw new LibbpfError('perf_buffer__consume', -n)
          return false
        },
        free: () => {
          api.pbFree(pb)
          koffi.unregister(sample)
          koffi.unregister(lost)
        },
      }
    },
    ringBufferSupported: () => (api.probeMapType(BPF_MAP_TYPE.RINGBUF, null) as number) === 1,
    makePerfEventArray: (map) => {
      check('perf event array', api.setType(map, BPF_MAP_TYPE.PERF_EVENT_ARRAY))
      check('perf event array key', api.setKeySize(map, 4))
      check('perf event array value', api.setValueSize(map, 4))
      check('perf event array size', api.setMaxEntries(map, 0)) // 0: one slot per CPU
    },
    lookup: (fd, key, value) => (api.lookup(fd, key, value) as number) === 0,
    nextKey: (fd, key, next) => (api.nextKey(fd, key, next) as number) === 0,
    deleteElem: (fd, key) => void api.deleteElem(fd, key),
    possibleCpus: () => api.possibleCpus() as number,
    trimHeap: () => void mallocTrim(0),
    vmlinuxBtf: (size) => {
      // The file gives 4 KiB per read(): ~1300 calls, ~8 ms from Node; this is two.
      const next = [0]
      if ((api.btfNextId(0, next) as number) !== 0) return null
      const fd = api.btfFdById(next[0]) as number
      if (fd < 0) return null
      try {
        // struct bpf_btf_info (uapi): btf (pointer) at 0, btf_size 8, id 12, name
        // (pointer) 16, name_len 24, kernel_btf 28 (name and kernel_btf: 5.11+).
        const name = Buffer.alloc(16)
        const about = objInfo(fd, 32, (info) => {
          info.setBigUint64(16, koffi.address(name), true)
          info.setUint32(24, name.length, true)
        })
        if (!about || about.len < 32) return null
        // vmlinux comes first, and is as large as the file says.
        const isVmlinux = about.info.getUint32(28, true) === 1 && name.toString('latin1', 0, name.indexOf(0)) === 'vmlinux'
        if (!isVmlinux || about.info.getUint32(8, true) !== size) return null
        // An ArrayBuffer's memory does not move: the kernel writes into it directly.
        const btf = Buffer.allocUnsafeSlow(size)
        const copied = objInfo(fd, 32, (info) => {
          info.setBigUint64(0, koffi.address(btf), true)
          info.setUint32(8, size, true)
        })
        return copied && copied.info.getUint32(8, true) === size ? btf : null
      } finally {
        closeSync(fd)
      }
    },
    recursionMisses: (prog) => {
      // struct bpf_prog_info (uapi): 232 bytes, recursion_misses (u64) at 208.
      const got = objInfo(api.progFd(prog) as number, 232)
      return got && got.len >= 216 ? Number(got.info.getBigUint64(208, true)) : 0
    },
  }
}
