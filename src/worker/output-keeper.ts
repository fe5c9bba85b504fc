import type { ExecResult } from "../sandbox/container/exec-types.js";
import type { KeepOutput, StageResult, Verdict } from "../run/result.js";
import { toStageResult } from "./stage-exec.js";

export type StageKind = "compile" | "run";

/**
 * What one run keeps of its stages' output, so that no run can make Warren
 * hold more than WARREN_RESULT_MAX_BYTES of it: one budget for the compile
 * stage, the plain run and every test together, spent as output is read
 * (each execution may keep what is left: ExecRequest.keepBytes), and the
 * request's keepOutput. Compile output is always kept (within the budget): a
 * compile error needs it.
 */
export class OutputKeeper {
  #left: number;
  readonly #keep: KeepOutput;

  constructor(budgetBytes: number, keep: KeepOutput) {
    if (!Number.isSafeInteger(budgetBytes) || budgetBytes < 0) throw new RangeError(`Expected the result budget to be a non-negative integer, got ${budgetBytes}.`);
    this.#left = budgetBytes;
    this.#keep = keep;
  }

  /** Output bytes not yet spent. */
  get left(): number {
    return this.#left;
  }

  /** The bytes the next execution of `kind` may keep (its keepBytes). */
  allowance(kind: StageKind): number {
    return kind === "run" && this.#keep === "none" ? 0 : this.#left;
  }

  /** Spends output kept outside this keeper's allowances (a judge program's compile stage, capped on its own). */
  spend(bytes: number): void {
    this.#left = Math.max(0, this.#left - bytes);
  }

  /** The execution's StageResult; what it kept is spent. */
  take(kind: StageKind, result: ExecResult): StageResult {
    this.#left = Math.max(0, this.#left - result.stdout.length - result.stderr.length);
    return toStageResult(result, kind === "run" && this.#keep === "none" ? "keep_output" : "result_budget");
  }

  /**
   * A run stage once its verdict is known: under keepOutput "failed", an
   * accepted one loses its output, which goes back to the budget for the
   * stages after it.
   */
  settle(stage: StageResult, result: ExecResult, verdict: Verdict): StageResult {
    if (this.#keep !== "failed" || verdict !== "accepted") return stage;
    const stdoutBytes = result.stdout.length + result.stdoutDropped;
    const stderrBytes = result.stderr.length + result.stderrDropped;
    if (stdoutBytes + stderrBytes === 0) return stage;
    this.#left += result.stdout.length + result.stderr.length;
    return {
      ...stage,
      stdout: "",
      stderr: "",
      // a stream that had bytes is no longer complete; an empty one still is
      stdoutTruncated: stage.stdoutTruncated || stdoutBytes > 0,
      stderrTruncated: stage.stderrTruncated || stderrBytes > 0,
      outputOmitted: { reason: "keep_output", stdoutBytes, stderrBytes },
    };
  }
}
