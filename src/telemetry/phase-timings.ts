/**
 * WARREN_PHASE_TIMINGS=1 (a debugging aid, off by default): when each phase
 * of a run happens, per process. Each side (the API, the worker) writes one
 * JSON line per run to stderr, `{"phases":"api"|"worker","runId","at",<phase>: ms after at, ...}`,
 * where `at` is the wall-clock time (ms) of its first mark, so the lines of
 * both sides can be joined (bench/service-latency.ts prints the breakdown).
 * Off until the command turns it on (recordPhaseTimings), once, at start.
 */
let enabled = false;
/** Runs that never flush (a request that failed halfway) must not pile up. */
const MAX_OPEN = 1_000;
const open = new Map<string, { at: number; marks: Record<string, number> }>();

export type Side = "api" | "worker";

/** Turns the phase lines on or off for this process (`warren serve` and `warren worker`, from WARREN_PHASE_TIMINGS). */
export function recordPhaseTimings(on: boolean): void {
  enabled = on;
  if (!on) open.clear();
}

export function markPhase(side: Side, id: string, phase: string): void {
  if (!enabled) return;
  const now = performance.timeOrigin + performance.now();
  const key = `${side}:${id}`;
  let run = open.get(key);
  if (run === undefined) {
    if (open.size >= MAX_OPEN) open.delete(open.keys().next().value as string);
    run = { at: now, marks: {} };
    open.set(key, run);
  }
  run.marks[phase] = Number((now - run.at).toFixed(3));
}

/** Writes the run's line for `side` and forgets it. */
export function flushPhases(side: Side, id: string): void {
  if (!enabled) return;
  const run = open.get(`${side}:${id}`);
  if (run === undefined) return;
  open.delete(`${side}:${id}`);
  process.stderr.write(`${JSON.stringify({ phases: side, runId: id, at: Number(run.at.toFixed(3)), ...run.marks })}\n`);
}
