// Typed errors. Each carries the exit code of SPEC §3, so the one exit point
// (lib/cli/exit.ts) never has to guess what went wrong.

export const ExitCode = {
  ok: 0,
  runtime: 1,
  usage: 2,
  notPermitted: 3,
  unsupported: 4,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export class ToolError extends Error {
  readonly exitCode: ExitCode
  constructor(message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.exitCode = exitCode
  }
}

/** Bad option, bad value, conflicting options: exit 2. */
export class UsageError extends ToolError {
  constructor(message: string) {
    super(message, ExitCode.usage)
  }
}

/** Every backend failed and at least one for lack of privilege: exit 3. */
export class PermissionError extends ToolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.notPermitted, options)
  }
}

/** No backend can serve this tool, hook type or filter on this kernel: exit 4. */
export class UnsupportedError extends ToolError {
  constructor(message: string) {
    super(message, ExitCode.unsupported)
  }
}

/** A backend could not start (load, attach): exit 1, unless another backend can take over. */
export class BackendStartError extends ToolError {
  constructor(backend: string, cause: unknown) {
    const inner = cause instanceof ToolError ? cause : null
    super(`${backend} backend: ${cause instanceof Error ? cause.message : String(cause)}`, inner?.exitCode ?? 1, { cause })
  }
}

/** Anything that went wrong while running: exit 1. */
export class RuntimeError extends ToolError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, ExitCode.runtime, options)
  }
}

/** The errno code of a Node system error (`EACCES`, `EAGAIN`, …), if it has one. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code
    return typeof code === 'string' ? code : undefined
  }
  return undefined
}

export function isPermissionDenied(err: unknown): boolean {
  const code = errnoCode(err)
  return code === 'EACCES' || code === 'EPERM'
}
