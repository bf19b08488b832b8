// Where a run's start-up time goes: milestones in ms since the process started
// (performance.now()), printed once the tool is attached with --debug, or with
// NETDROP_STARTUP=1 (the bench: --debug's libbpf log would slow the load it measures).
const marks: Array<[string, number]> = []

export function mark(name: string): void {
  marks.push([name, performance.now()])
}

/** `startup: modules 118, args 126, … attached 205 (ms since the process started)`. */
export function startupLine(): string {
  return `startup: ${marks.map(([name, t]) => `${name} ${t.toFixed(0)}`).join(', ')} (ms since the process started)`
}
