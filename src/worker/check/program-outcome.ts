import type { ExecResult } from "../../sandbox/container/exec-types.js";

/**
 * What a checker program's run says about a test, in testlib's convention
 * (docs/api-extensions.md, *Checker programs*):
 *
 * | exit | outcome |
 * | --- | --- |
 * | 0 | accepted |
 * | 1 (wrong answer), 2 (presentation error) | wrong_answer |
 * | 3 (fail) | the judge failed |
 * | 7 (points) | a fraction of the test's points: the first line of stderr (testlib writes its message there), or of stdout when stderr is empty, starts with the fraction, a number from 0 to 1, optionally after `points ` (testlib's `quitp(0.5, "…")` writes `points 0.5 …`); 1 is accepted, less is wrong_answer with that fraction; no such number, or one outside 0..1, is the judge's failure |
 * | anything else, a signal, a limit exceeded, Warren's failure | the judge failed |
 */
export type CheckerOutcome =
  | { readonly kind: "accepted" }
  | { readonly kind: "wrong_answer"; readonly fraction: number }
  | { readonly kind: "judge_failed"; readonly reason: string };

export const TESTLIB_EXIT = Object.freeze({ ok: 0, wrongAnswer: 1, presentationError: 2, fail: 3, points: 7 });

const POINTS = /^\s*(?:points\s+)?([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?(?=\s|$)/;

export function checkerOutcome(result: Pick<ExecResult, "status" | "exitCode" | "signal" | "error">, stdout: string, stderr: string): CheckerOutcome {
  if (result.status === "internal_error") return { kind: "judge_failed", reason: `the checker could not run: step ${result.error?.step ?? "?"}: ${result.error?.message ?? "unknown"}` };
  if (result.status !== "ok" && result.status !== "runtime_error") return { kind: "judge_failed", reason: `the checker ended with ${result.status}` };
  if (result.signal !== null) return { kind: "judge_failed", reason: `the checker was killed by ${result.signal}` };
  switch (result.exitCode) {
    case TESTLIB_EXIT.ok:
      return { kind: "accepted" };
    case TESTLIB_EXIT.wrongAnswer:
    case TESTLIB_EXIT.presentationError:
      return { kind: "wrong_answer", fraction: 0 };
    case TESTLIB_EXIT.fail:
      return { kind: "judge_failed", reason: "the checker reported a judge failure (exit 3)" };
    case TESTLIB_EXIT.points: {
      const line = (stderr.trim() === "" ? stdout : stderr).trimStart().split("\n", 1)[0] ?? "";
      const match = POINTS.exec(line);
      const fraction = match === null ? Number.NaN : Number(match[0].trim().replace(/^points\s+/, ""));
      if (!(fraction >= 0 && fraction <= 1)) {
        return { kind: "judge_failed", reason: `the checker exited 7 (points) but its message does not start with a fraction from 0 to 1 (e.g. "points 0.5"): ${JSON.stringify(line.slice(0, 80))}` };
      }
      return fraction === 1 ? { kind: "accepted" } : { kind: "wrong_answer", fraction };
    }
    default:
      return { kind: "judge_failed", reason: `the checker exited ${String(result.exitCode)}, which is not one of testlib's verdicts (0, 1, 2, 3, 7)` };
  }
}
