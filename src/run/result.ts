import type { FunctionJobHeader, FunctionJobReport } from "./function-wire.js";

/**
 * How a stage ended (API.md StageResult.status). The sandbox reports an
 * execution in the same words (sandbox/container/exec-types.ts ExecStatus);
 * worker/stage-exec.ts is the one place an execution becomes a stage, so
 * the compiler says if the two lists ever part.
 */
export const STAGE_STATUSES = [
  "ok",
  "runtime_error",
  "time_limit_exceeded",
  "memory_limit_exceeded",
  "output_limit_exceeded",
  "internal_error",
] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

/** Extension: Warren's failure in a stage (status internal_error): which set-up step failed and why. */
export interface StageError {
  readonly step: string;
  readonly errno: number | null;
  readonly message: string;
  /** Step execve: the file execve failed on; absent when the name was not found in PATH. */
  readonly path?: string;
  /** Step execve: the interpreter that file asks for (`#!` line or ELF PT_INTERP), when the failure can be about it. */
  readonly interpreter?: string;
  /** Step execve: the file lies in the job's scratch (its work dir, /tmp, /dev/shm). */
  readonly scratch?: boolean;
}

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
  readonly status: StageStatus;
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
  readonly error?: StageError;
  /** Extension: present when Warren dropped some of the stage's output (the stream's *Truncated flag is then set). */
  readonly outputOmitted?: OutputOmitted;
}

export interface TestResult extends StageResult {
  readonly name: string;
  readonly verdict: Verdict;
  /** Extension: what a checker program said (its stderr, then its stdout; capped), when one judged the test. */
  readonly checkerMessage?: string;
  /** Extension: why the judge (a checker program) failed on this test; the test's verdict is then internal_error, not the contestant's fault. */
  readonly judgeFailure?: string;
  /** Extension, scored runs only: the points the test earned, and could have. */
  readonly score?: number;
  readonly maxScore?: number;
  /** Extension, interactive problems: the interactor's run beside the test's (docs/api-extensions.md, *Interactive problems*). */
  readonly interaction?: InteractionReport;
}

/** Extension: one test's interaction (interactive problems). */
export interface InteractionReport {
  /** The solution was ended by its wall-time limit with CPU time to spare: it waited (stopped reading, never flushed, or both sides blocked on a read). */
  readonly idleness: boolean;
  readonly interactor: Pick<StageResult, "exitCode" | "signal" | "cpuTimeMs" | "wallTimeMs" | "memoryKb"> & { readonly status: string };
  /** With interactor.transcript: each direction, capped. */
  readonly transcript?: { readonly toInteractor: string; readonly toSolution: string; readonly toInteractorTruncated: boolean; readonly toSolutionTruncated: boolean };
}

/** Extension, scored runs: one group (subtask) of tests. */
export interface GroupResult {
  readonly name: string;
  readonly score: number;
  readonly maxScore: number;
  /** accepted when every test of it was; else the first other verdict of its tests; null when none of its tests ran. */
  readonly verdict: Verdict | null;
  /** Its tests that did not run (names): after its first failure, a dependency not passed, or stopOnFirstFailure. */
  readonly skipped: readonly string[];
}

/** Extension: a judge program's part in the run (a checker program's compile stage). */
export interface JudgeReport {
  /** null when its language has no compile stage. */
  readonly compile: StageResult | null;
}

/** Extension fields of a finished run, each present only when the request asked for what it reports. */
export interface RunExtras {
  readonly error?: { readonly code: string; readonly message: string };
  readonly judge?: JudgeReport;
  readonly score?: number;
  readonly maxScore?: number;
  readonly groups?: readonly GroupResult[];
}

export const RUN_STATUSES = ["queued", "running", "completed", "cancelled", "failed"] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Statuses after which a run never changes again. */
export function isFinal(status: RunStatus): boolean {
  return status === "completed" || status === "cancelled" || status === "failed";
}

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
  /** Extension: Warren's own failure, or the judge's, when status is `failed`. */
  readonly error?: { readonly code: string; readonly message: string };
  /** Extension: the checker program's compile stage, when the checker is a program. */
  readonly judge?: JudgeReport;
  /** Extension, scored runs only (tests with points or groups): the total, and per group. */
  readonly score?: number;
  readonly maxScore?: number;
  readonly groups?: readonly GroupResult[];
  /** Extension: a function job's (docs/api-extensions.md, *Functions*): which function, and once final what it did. */
  readonly function?: FunctionJobHeader | FunctionJobReport;
}

/** What every RunResult starts with: the run's id, and the language and version it runs. */
export interface RunHeader {
  readonly id: string;
  readonly language: string;
  readonly version: string;
  /** A function job's header (QueuedJob.function), kept in each of its results. */
  readonly function?: FunctionJobHeader;
}

const functionOf = (header: RunHeader) => (header.function === undefined ? {} : { function: header.function });

/*
 * The one constructor of each RunResult shape. Fields are picked from the
 * header (a queued job carries its whole request besides), in API.md's order.
 */

/** A run not finished yet: queued, or running (no stage, no verdict). */
export function pendingResult(header: RunHeader, status: "queued" | "running"): RunResult {
  return { id: header.id, status, language: header.language, version: header.version, verdict: null, compile: null, run: null, tests: null, ...functionOf(header) };
}

/** A cancelled run: whatever it ran is dropped, no verdict. */
export function cancelledResult(header: RunHeader): RunResult {
  return { id: header.id, status: "cancelled", language: header.language, version: header.version, verdict: null, compile: null, run: null, tests: null, ...functionOf(header) };
}

/** A run Warren itself failed before any stage had a result: status failed, verdict internal_error, and why. */
export function failedResult(header: RunHeader, error: { readonly code: string; readonly message: string }): RunResult {
  return {
    id: header.id,
    status: "failed",
    language: header.language,
    version: header.version,
    verdict: "internal_error",
    compile: null,
    run: null,
    tests: null,
    error: { code: error.code, message: error.message },
    ...functionOf(header),
  };
}

/** A run whose stages came to a verdict: completed, or failed when the verdict is internal_error (Warren failed in a stage). */
export function finishedResult(
  header: RunHeader,
  verdict: Verdict,
  stages: { readonly compile?: StageResult | null; readonly run?: StageResult | null; readonly tests?: readonly TestResult[] | null },
  extras: RunExtras = {},
): RunResult {
  return {
    id: header.id,
    status: verdict === "internal_error" ? "failed" : "completed",
    language: header.language,
    version: header.version,
    verdict,
    compile: stages.compile ?? null,
    run: stages.run ?? null,
    tests: stages.tests ?? null,
    ...(extras.error === undefined ? {} : { error: extras.error }),
    ...(extras.judge === undefined ? {} : { judge: extras.judge }),
    ...(extras.score === undefined ? {} : { score: extras.score }),
    ...(extras.maxScore === undefined ? {} : { maxScore: extras.maxScore }),
    ...(extras.groups === undefined ? {} : { groups: extras.groups }),
  };
}
