import { describe, expect, it } from "vitest";
import { checkerOutcome } from "./program-outcome.js";

const exited = (exitCode: number) => ({ status: exitCode === 0 ? "ok" : "runtime_error", exitCode, signal: null }) as const;

describe("checkerOutcome (testlib's exit codes)", () => {
  it("maps 0, 1 and 2 to the contestant's verdicts, 3 and others to the judge's failure", () => {
    expect(checkerOutcome(exited(0), "", "ok")).toEqual({ kind: "accepted" });
    expect(checkerOutcome(exited(1), "", "wrong answer")).toEqual({ kind: "wrong_answer", fraction: 0 });
    expect(checkerOutcome(exited(2), "", "wrong output format")).toEqual({ kind: "wrong_answer", fraction: 0 });
    expect(checkerOutcome(exited(3), "", "FAIL")).toEqual({ kind: "judge_failed", reason: "the checker reported a judge failure (exit 3)" });
    expect(checkerOutcome(exited(4), "", "")).toMatchObject({ kind: "judge_failed" });
    expect(checkerOutcome({ status: "runtime_error", exitCode: null, signal: "SIGABRT" }, "", "")).toEqual({ kind: "judge_failed", reason: "the checker was killed by SIGABRT" });
    expect(checkerOutcome({ status: "output_limit_exceeded", exitCode: null, signal: "SIGKILL" }, "", "")).toEqual({ kind: "judge_failed", reason: "the checker ended with output_limit_exceeded" });
  });

  it("reads exit 7's fraction from stderr's first line (testlib's `points P msg`), else stdout's", () => {
    expect(checkerOutcome(exited(7), "", "points 0.25 one of four\nmore")).toEqual({ kind: "wrong_answer", fraction: 0.25 });
    expect(checkerOutcome(exited(7), "", "  .5")).toEqual({ kind: "wrong_answer", fraction: 0.5 });
    expect(checkerOutcome(exited(7), "0.75 from stdout", "")).toEqual({ kind: "wrong_answer", fraction: 0.75 });
    expect(checkerOutcome(exited(7), "", "points 1")).toEqual({ kind: "accepted" });
    expect(checkerOutcome(exited(7), "", "points 0")).toEqual({ kind: "wrong_answer", fraction: 0 });
    expect(checkerOutcome(exited(7), "", "points 2.5e-1")).toEqual({ kind: "wrong_answer", fraction: 0.25 });
  });

  it("takes no fraction outside 0..1, none at all, or a number run into a word", () => {
    for (const message of ["points 1.5", "points -0.5", "half", "", "points 0.5x", "points NaN", "points"]) {
      expect(checkerOutcome(exited(7), "", message)).toMatchObject({ kind: "judge_failed" });
    }
  });
});
