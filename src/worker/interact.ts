import { SandboxError } from "../errors.js";
import type { InteractorSpec, TestSpec } from "../run/job-spec.js";
import type { InteractionReport } from "../run/result.js";
import type { Container, ExecStream } from "../sandbox/container/container.js";
import type { ExecLimits, ExecRequest, ExecResult } from "../sandbox/container/exec-types.js";
import type { Language } from "../sandbox/images/languages.js";
import { OutputBuffer } from "../sandbox/container/output-buffer.js";
import { checkerOutcome, type CheckerOutcome } from "./check/program-outcome.js";
import { judgeProgramSpec, type JudgeProgram, type JudgeProgramSpec } from "./judge-program.js";

/**
 * Interactive problems (docs/api-extensions.md, *Interactive problems*): the
 * contestant's solution and the setter's interactor run at the same time,
 * each in its own container under its own limits, joined through Node by
 * streamed executions (Container.start):
 *
 *   solution stdout ──▶ interactor stdin      interactor stdout ──▶ solution stdin
 *
 * Backpressure holds both ways: a chunk's write that the other side's
 * launcher has not taken pauses the reading of this side's output, so its
 * launcher holds one frame and its program blocks on its writes, as on a
 * real pipe; nothing is buffered without bound. When one side ends, the
 * other's stdin is ended (it reads EOF). The interactor gets the test's
 * files as testlib's interactors do, `interactor input output answer` (the
 * input is the test's stdin, the answer its expectedOutput or empty, the
 * output a file of its own to write), and says the verdict by its exit code.
 */

/** Each direction of a transcript keeps at most this much. */
export const TRANSCRIPT_BYTES = 64 * 1024;
/** The most bytes of the interactor's stderr a test keeps as its checkerMessage. */
export const INTERACTOR_MESSAGE_BYTES = 4096;

/** The judge program spec of an interactor for these tests. */
export function interactorProgramSpec(interactor: InteractorSpec<Language>, tests: readonly TestSpec[], resultMaxBytes: number): JudgeProgramSpec {
  return judgeProgramSpec(interactor, tests, 0, resultMaxBytes);
}

/** One test's interaction: both runs, what the interactor said, and the report for the result. */
export interface Interaction {
  readonly solution: ExecResult;
  readonly interactor: ExecResult;
  /** The interactor's verdict (testlib's exit codes); its crash or limit is the judge's failure. */
  readonly outcome: CheckerOutcome;
  /** The interactor's stderr (capped): the test's checkerMessage. */
  readonly message: string;
  readonly report: InteractionReport;
}

/**
 * FROM's output into TO's stdin. While a write waits for TO's launcher to
 * take it, FROM's output is not read: that is how a side that does not read
 * holds the other one back, and no more than a chunk waits in Node.
 */
class Relay {
  readonly #from: () => ExecStream;
  readonly #to: () => ExecStream;
  readonly #record: OutputBuffer | undefined;
  #waiting = 0;
  /** A write the other side refused (never expected: the pause keeps the writes within ExecStream's bound). */
  refused: unknown;

  constructor(from: () => ExecStream, to: () => ExecStream, record: OutputBuffer | undefined) {
    this.#from = from;
    this.#to = to;
    this.#record = record;
  }

  push(chunk: Buffer): void {
    this.#record?.push(chunk);
    this.#waiting += 1;
    this.#from().pauseOutput();
    void this.#to()
      .write(chunk)
      .catch((error: unknown) => {
        this.refused ??= error;
      })
      .then(() => {
        this.#waiting -= 1;
        if (this.#waiting === 0) this.#from().resumeOutput();
      });
  }
}

/**
 * Runs SOLUTION (the contestant's test run, as runStage builds it) in
 * CONTAINER and the interactor JUDGE beside it, joined, for TEST. Resolves
 * when both have ended.
 */
export async function interact(
  container: Container,
  judge: JudgeProgram,
  solution: ExecRequest,
  test: TestSpec,
  options: { readonly transcript: boolean; readonly signal?: AbortSignal },
): Promise<Interaction> {
  const toInteractor = options.transcript ? new OutputBuffer(TRANSCRIPT_BYTES) : undefined;
  const toSolution = options.transcript ? new OutputBuffer(TRANSCRIPT_BYTES) : undefined;
  const message = new OutputBuffer(INTERACTOR_MESSAGE_BYTES);
  let contestant: ExecStream | undefined;
  let interactor: ExecStream | undefined;
  const up = new Relay(() => contestant ?? NO_STREAM, () => interactor ?? NO_STREAM, toInteractor);
  const down = new Relay(() => interactor ?? NO_STREAM, () => contestant ?? NO_STREAM, toSolution);
  const { stdin: _stdin, ...request } = solution; // the solution's stdin is the interactor's output
  contestant = container.start({
    ...request,
    onStdout: (chunk) => {
      solution.onStdout?.(chunk);
      up.push(chunk);
    },
  });
  interactor = judge.start({
    files: [
      { name: "input", content: test.stdin },
      { name: "output", content: Buffer.alloc(0) },
      { name: "answer", content: Buffer.from(test.expectedOutput ?? "", "utf8") },
    ],
    keepBytes: 0, // its stdout is the exchange (relayed, and in the transcript when asked); its stderr is its message
    onStdout: (chunk) => down.push(chunk),
    onStderr: (chunk) => message.push(chunk),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  // one side's end is the other's EOF
  const [solved, judged] = await Promise.all([
    contestant.result.finally(() => void interactor?.end()),
    interactor.result.finally(() => void contestant?.end()),
  ]);
  // bytes of the exchange were lost: Warren's failure, not a verdict
  const refused = up.refused ?? down.refused;
  if (refused !== undefined) throw new SandboxError("launcher_failed", `A write between the solution and the interactor was refused: ${refused instanceof Error ? refused.message : String(refused)}`);
  const said = message.toBuffer().toString("utf8");
  const outcome = renamed(checkerOutcome(judged, "", said));
  return {
    solution: solved,
    interactor: judged,
    outcome,
    message: said,
    report: {
      idleness: idle(solved, solution.limits),
      interactor: { status: judged.status, exitCode: judged.exitCode, signal: judged.signal, cpuTimeMs: judged.cpuTimeMs, wallTimeMs: judged.wallTimeMs, memoryKb: judged.memoryKb },
      ...(toInteractor === undefined || toSolution === undefined
        ? {}
        : {
            transcript: {
              toInteractor: toInteractor.toBuffer().toString("utf8"),
              toSolution: toSolution.toBuffer().toString("utf8"),
              toInteractorTruncated: toInteractor.overflowed,
              toSolutionTruncated: toSolution.overflowed,
            },
          }),
    },
  };
}

/** Ended by its wall-time limit, not its CPU-time limit: the solution waited (stopped reading, never flushed, or both sides read). */
function idle(result: ExecResult, limits: ExecLimits): boolean {
  return result.status === "time_limit_exceeded" && (limits.cpuTimeMs === undefined || result.cpuTimeMs < limits.cpuTimeMs);
}

/** checkerOutcome's reasons, said of the interactor. */
function renamed(outcome: CheckerOutcome): CheckerOutcome {
  return outcome.kind === "judge_failed" ? { kind: "judge_failed", reason: outcome.reason.replaceAll("checker", "interactor") } : outcome;
}

/** The side not started yet: nothing to pause or write to (never used once both are: their output comes after). */
const NO_STREAM: ExecStream = {
  write: () => Promise.resolve(),
  end: () => Promise.resolve(),
  pauseOutput: () => {},
  resumeOutput: () => {},
  signal: () => {},
  result: new Promise<ExecResult>(() => {}),
};
