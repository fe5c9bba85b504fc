import type { ExecError, ExecStatus } from "../sandbox/container/exec-types.js";

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

/** What a request may ask to keep of its run stages' output (extension `keepOutput`). */
export const KEEP_OUTPUT = ["all", "failed", "none"] as const;
export type KeepOutput = (typeof KEEP_OUTPUT)[number];

/**
 * Extension: output Warren received but did not keep in the result, and why:
 * `result_budget` (WARREN_RESULT_MAX_BYTES was spent) or `keep_output` (the
 * request's keepOutput). Bytes cut by the program's own output limit are not
 * counted here (they never reached Warren).
 */
export interface OutputOmitted {
  readonly reason: "result_budget" | "keep_output";
  readonly stdoutBytes: number;
  readonly stderrBytes: number;
}

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
  /** Extension: present when Warren dropped some of the stage's output (the stream's *Truncated flag is then set). */
  readonly outputOmitted?: OutputOmitted;
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
