import { SandboxError } from "../errors.js";
import type { ProgramCheckerSpec, TestSpec } from "../run/job-spec.js";
import type { Limits } from "../run/limits.js";
import { notRunResult, type ExecResult } from "../sandbox/container/exec-types.js";
import type { Language } from "../sandbox/images/languages.js";
import { OutputBuffer } from "../sandbox/container/output-buffer.js";
import { checkerOutcome, type CheckerOutcome } from "./check/program-outcome.js";
import { judgeProgramSpec, type JudgeProgram, type JudgeProgramSpec } from "./judge-program.js";

/** The most bytes of a checker's stderr and stdout (together) a test keeps as its checkerMessage. */
export const CHECKER_MESSAGE_BYTES = 4096;
/** Output the launcher may deliver past a program's output limit (a pipe buffer); what the checker is given is cut there. */
const OUTPUT_SLACK = 64 * 1024;

/** The judge program spec of a checker program judging tests of a run under `runLimits`. */
export function checkerProgramSpec(checker: ProgramCheckerSpec<Language>, tests: readonly TestSpec[], runLimits: Limits, resultMaxBytes: number): JudgeProgramSpec {
  return judgeProgramSpec(checker, tests, contestantOutputCap(runLimits), resultMaxBytes);
}

/**
 * The contestant's whole stdout, as the checker gets it: bounded by the
 * run's output limit (which stops the program), so a test holds at most that
 * much, whatever keepOutput keeps in the result.
 */
export function contestantOutput(runLimits: Limits): OutputBuffer {
  return new OutputBuffer(contestantOutputCap(runLimits));
}

function contestantOutputCap(runLimits: Limits): number {
  return runLimits.outputKb * 1024 + OUTPUT_SLACK;
}

/** A checker run that did not happen: nothing kept of it. */
const NOTHING_KEPT: ExecResult = Object.freeze(notRunResult());

export interface CheckedTest {
  readonly outcome: CheckerOutcome;
  /** The checker's stderr, then its stdout, as UTF-8 (at most `keepBytes` of them). */
  readonly message: string;
  readonly result: ExecResult;
}

/**
 * Runs the checker on one test: `checker input output answer`, the answer
 * empty when the test has no expectedOutput.
 */
export async function checkTest(judge: JudgeProgram, test: TestSpec, output: Buffer, keepBytes: number, signal?: AbortSignal): Promise<CheckedTest> {
  let result: ExecResult;
  try {
    result = await judge.run({
      files: [
        { name: "input", content: test.stdin },
        { name: "output", content: output },
        { name: "answer", content: Buffer.from(test.expectedOutput ?? "", "utf8") },
      ],
      keepBytes: Math.min(keepBytes, CHECKER_MESSAGE_BYTES),
      ...(signal === undefined ? {} : { signal }),
    });
  } catch (error) {
    // The scratch is sized for the test's files: when they do not fit, the checker filled it itself.
    if (!(error instanceof SandboxError && error.code === "copy_in_failed")) throw error;
    return { outcome: { kind: "judge_failed", reason: `the test's files could not be written into the checker's container (did the checker fill its scratch?): ${error.message}` }, message: "", result: NOTHING_KEPT };
  }
  const stdout = result.stdout.toString("utf8");
  const stderr = result.stderr.toString("utf8");
  const message = [stderr, stdout].filter((part) => part !== "").join(stderr.endsWith("\n") ? "" : "\n");
  return { outcome: checkerOutcome(result, stdout, stderr), message, result };
}
