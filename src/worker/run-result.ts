import type { ExecError, ExecStatus } from "../sandbox/exec-types.js";

export const VERDICTS = [
  "accepted",
  "wrong_answer",
  "compile_error",
  "runtime_error",
  "time_limit_exceeded",
  "memory_limit_exceeded",
  "output_limit_exceeded",
  "internal_error",
] as const;
export type Verdict = (typeof VERDICTS)[number];

/** One stage (compile, run, or one test's run), as in API.md. */
export interface StageResult {
  readonly status: ExecStatus;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutTruncated: boolean;
  readonly stderrTruncated: boolean;
  readonly cpuTimeMs: number;
  readonly wallTimeMs: number;
  /** Peak memory charge of the stage's cgroup in KiB, page cache and tmpfs writes included. */
  readonly memoryKb: number;
  /** Extension: what failed, only when status is internal_error. */
  readonly error?: ExecError;
}

export interface TestResult extends StageResult {
  readonly name: string;
  readonly verdict: Verdict;
}

export type RunStatus = "queued" | "running" | "completed" | "cancelled" | "failed";

export interface RunResult {
  readonly id: string;
  /** `failed` when Warren itself failed (verdict internal_error). */
  readonly status: RunStatus;
  readonly language: string;
  readonly version: string;
  readonly verdict: Verdict | null;
  readonly compile: StageResult | null;
  readonly run: StageResult | null;
  readonly tests: readonly TestResult[] | null;
  /** Extension: Warren's own failure, when status is `failed`. */
  readonly error?: { readonly code: string; readonly message: string };
}
