import type { StageResult, Verdict } from "./result.js";

/** Whether a compile stage produced something to run. */
export function compiled(stage: StageResult): boolean {
  return stage.status === "ok" && stage.exitCode === 0;
}

/** A failed compile: `internal_error` when Warren failed, else `compile_error` (limits included). */
export function compileFailureVerdict(stage: StageResult): Verdict {
  return stage.status === "internal_error" ? "internal_error" : "compile_error";
}

/**
 * A run stage's verdict (API.md): `accepted` for status ok with exit code 0,
 * `runtime_error` for a non-zero exit or a signal, the limit verdicts as they
 * occur; `passed` is the checker's answer when there is an expected output.
 */
export function runVerdict(stage: StageResult, passed = true): Verdict {
  switch (stage.status) {
    case "ok":
      if (stage.exitCode !== 0 || stage.signal !== null) return "runtime_error";
      return passed ? "accepted" : "wrong_answer";
    case "runtime_error":
    case "time_limit_exceeded":
    case "memory_limit_exceeded":
    case "output_limit_exceeded":
    case "internal_error":
      return stage.status;
  }
}

/** The verdict of a judged job: the first test's that is not accepted, else accepted. */
export function overallVerdict(tests: readonly { readonly verdict: Verdict }[]): Verdict {
  return tests.find((test) => test.verdict !== "accepted")?.verdict ?? "accepted";
}
