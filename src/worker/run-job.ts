import { containerOptions } from "../sandbox/container/container-options.js";
import { randomUUID } from "node:crypto";
import { WarrenError } from "../errors.js";
import type { JobSpec } from "../run/job-spec.js";
import { RESULT_MAX_BYTES, type Limits } from "../run/limits.js";
import type { JobEventSink, StageRef } from "../run/events.js";
import { cancelledResult, failedResult, finishedResult, type JudgeReport, type RunExtras, type RunHeader, type RunResult, type StageResult, type TestResult } from "../run/result.js";
import { ScoreSheet } from "../run/scoring.js";
import { compiled, compileFailureVerdict, overallVerdict, runVerdict } from "../run/verdict.js";
import { Container } from "../sandbox/container/container.js";
import type { ExecRequest, ExecResult } from "../sandbox/container/exec-types.js";
import type { Image } from "../sandbox/images/host-image.js";
import { expandCommand, type Language } from "../sandbox/images/languages.js";
import type { ImageLease } from "../sandbox/images/store/lease.js";
import type { SandboxHost } from "../sandbox/sandbox-host.js";
import { markPhase } from "../telemetry/phase-timings.js";
import { startCheck } from "./checkers.js";
import { ProgramStarts } from "./exec-blame.js";
import { imageOf } from "./job-image.js";
import { JudgeProgram, type JudgePreparation } from "./judge-program.js";
import { checkerProgramSpec, checkTest, contestantOutput } from "./program-check.js";
import { interact, interactorProgramSpec, type Interaction } from "./interact.js";
import { OutputKeeper, type StageKind } from "./output-keeper.js";
import { execLimits } from "./stage-exec.js";
import { serveSession } from "./session-stdin.js";
import type { SessionInputReader } from "../queue/session-input.js";

export interface RunJobOptions {
  /**
   * Cancels the job: when it fires, the container (every process in it) is
   * destroyed at once and the job ends with status `cancelled`.
   */
  readonly signal?: AbortSignal;
  /**
   * Called with the job's result as soon as it is known, before the container
   * is torn down (which runJob still awaits before it resolves): lets the
   * queue store the result and answer waiters while the teardown runs. Must not throw.
   */
  readonly onResult?: (result: RunResult) => void;
  /**
   * The most output bytes (stdout and stderr) the result keeps across all
   * its stages (WARREN_RESULT_MAX_BYTES). @defaultValue RESULT_MAX_BYTES.default
   */
  readonly resultMaxBytes?: number;
  /**
   * Called as the job goes: each stage starting and ending, its output as it
   * is produced, each test's verdict (src/run/events.ts). Must not throw.
   */
  readonly onEvent?: JobEventSink;
  /**
   * A session's stdin (GET /v1/sessions): the plain run stage's stdin is a
   * stream fed from it (after the request's own `stdin`), not a fixed buffer.
   */
  readonly stdinSource?: SessionInputReader;
}

/**
 * Runs one job: one container for its whole life (compile output stays in its
 * scratch layer), a compile stage when the language has one, then one run or
 * one run per test; the container is destroyed however it ends. Untrusted code
 * cannot make this throw; Warren's own failures become status `failed` with
 * verdict `internal_error`.
 */
export async function runJob(spec: JobSpec<Language>, host: SandboxHost, id: string = randomUUID(), options: RunJobOptions = {}): Promise<RunResult> {
  const header: RunHeader = { id, language: spec.language.id, version: spec.language.version.detected };
  const { signal } = options;
  const cancelled = () => cancelledResult(header);
  // A function, not a narrowed expression: the signal can fire during any await.
  const aborted = (): boolean => signal?.aborted === true;
  if (aborted()) return cancelled();

  // A checker program or an interactor is prepared (its container made, compiled) beside the contestant's; ended with the job.
  const checker = spec.checker.kind === "program" && spec.tests !== null ? spec.checker : null;
  const interactor = spec.tests === null ? null : spec.interactor;
  const judgeRole = interactor === null ? "checker program" : "interactor";
  const resultMaxBytes = options.resultMaxBytes ?? RESULT_MAX_BYTES.default;
  const judgeSpec =
    spec.tests === null ? null : interactor !== null ? interactorProgramSpec(interactor, spec.tests, resultMaxBytes) : checker === null ? null : checkerProgramSpec(checker, spec.tests, spec.limits, resultMaxBytes);
  // Made only for a job with a judge program: an abort() makes a DOMException with its stack (~0.1 ms a job).
  const judgeEnd = judgeSpec === null ? undefined : new AbortController();
  const judgePreparing: Promise<JudgePreparation> | undefined =
    judgeSpec === null || judgeEnd === undefined ? undefined : JudgeProgram.prepare(judgeSpec, host, signal === undefined ? judgeEnd.signal : AbortSignal.any([signal, judgeEnd.signal]));
  judgePreparing?.catch(() => {}); // awaited in stages(); a job that ends before that drops it
  const endJudge = async () => {
    if (judgeEnd === undefined) return;
    judgeEnd.abort();
    const prepared = await judgePreparing?.catch(() => undefined);
    await prepared?.program?.destroy();
  };

  // The image that provides the language; a stored one is claimed until its container is gone.
  let image: Image;
  let lease: ImageLease | undefined;
  try {
    image = imageOf(host, spec.language.image);
    lease = image.acquire?.();
  } catch (error) {
    await endJudge();
    return failure(header, error);
  }
  let container: Container;
  try {
    container = await (host.pool?.acquire.bind(host.pool) ?? Container.create)(
      containerOptions(host, image, {
        // One scratch layer serves every stage, so it is as large as the largest stage's disk limit.
        scratchMb: spec.language.compile === null ? spec.limits.diskMb : Math.max(spec.limits.diskMb, spec.compileLimits.diskMb),
        files: spec.files,
      }),
    );
  } catch (error) {
    lease?.release();
    await endJudge();
    return aborted() ? cancelled() : failure(header, error);
  }
  markPhase("worker", id, "container ready");
  // Destroying the container kills the stage that runs in it; the stage then ends and we report `cancelled`.
  const onAbort = () => void container.destroy();
  signal?.addEventListener("abort", onAbort, { once: true });
  if (aborted()) onAbort();
  // The stages; their result is reported (onResult) before the container's teardown.
  const stages = async (): Promise<RunResult> => {
    const files = spec.files.map((file) => file.path);
    // One output budget for every stage of the run, spent as output is read (docs/api-extensions.md, keepOutput).
    const keeper = new OutputKeeper(options.resultMaxBytes ?? RESULT_MAX_BYTES.default, spec.keepOutput);
    let execs = 0;
    // A program that could not start is the job's runtime_error when the job made it so (exec-blame.ts).
    const starts = new ProgramStarts();
    const emit = options.onEvent;
    const runStage = async (
      ref: StageRef,
      template: readonly string[],
      limits: Limits,
      stdin: Buffer,
      extra: readonly string[],
      env: Readonly<Record<string, string>>,
      onStdout?: (chunk: Buffer) => void,
      // how the execution is served: exec(), or (an interactive test) beside the interactor
      serve: (request: ExecRequest) => Promise<ExecResult> = (request) => container.exec(request),
    ) => {
      const kind: StageKind = ref.stage === "compile" ? "compile" : "run";
      const n = ++execs;
      markPhase("worker", id, `exec ${n}`);
      const argv = [...expandCommand(template, spec.language, { files, memoryMb: limits.memoryMb }), ...extra];
      emit?.({ type: "stage_started", ref });
      const stdoutSink =
        emit === undefined
          ? onStdout
          : (chunk: Buffer) => {
              onStdout?.(chunk);
              emit({ type: "output", ref, stream: "stdout", data: chunk });
            };
      const result = await serve({
        argv,
        env: { ...image.env, ...env },
        stdin,
        limits: execLimits(limits),
        keepBytes: keeper.allowance(kind),
        ...(stdoutSink === undefined ? {} : { onStdout: stdoutSink }),
        ...(emit === undefined ? {} : { onStderr: (chunk: Buffer) => emit({ type: "output", ref, stream: "stderr", data: chunk }) }),
      });
      markPhase("worker", id, `exec ${n} done`);
      const afterCompile = spec.language.compile !== null && template !== spec.language.compile;
      const settled = starts.settle(keeper.take(kind, result), { program: argv[0] ?? "", env: { ...image.env, ...env }, imageEnv: image.env, afterCompile });
      return { result, stage: settled };
    };

    let compile: StageResult | null = null;
    if (spec.language.compile !== null) {
      compile = (await runStage({ stage: "compile" }, spec.language.compile, spec.compileLimits, Buffer.alloc(0), [], {})).stage;
      if (aborted()) return cancelled();
      emit?.({ type: "stage_finished", ref: { stage: "compile" }, result: compile });
    }
    // A judge that does not compile is the setter's fault, reported before (and apart from) the contestant's compile.
    let judge: JudgeProgram | null = null;
    let judgeReport: JudgeReport | undefined;
    if (judgePreparing !== undefined) {
      const prepared = await judgePreparing;
      if (aborted()) return cancelled();
      judgeReport = { compile: prepared.compile };
      if (prepared.compile !== null) keeper.spend(Buffer.byteLength(prepared.compile.stdout) + Buffer.byteLength(prepared.compile.stderr));
      if (prepared.program === null) {
        const error = { code: "judge_compile_error", message: `The ${judgeRole} did not compile: its compile stage is the result's judge.compile.` };
        return finishedResult(header, "internal_error", { compile }, { error, judge: judgeReport });
      }
      judge = prepared.program;
    }
    if (compile !== null && !compiled(compile)) return finishedResult(header, compileFailureVerdict(compile), { compile }, judgeReport === undefined ? {} : { judge: judgeReport });
    if (spec.tests === null) {
      // A session's program reads its stdin as the client sends it (after the request's own stdin).
      const source = options.stdinSource;
      const streamed = source === undefined ? undefined : (request: ExecRequest) => serveSession(container, request, source);
      const { result, stage } = await runStage({ stage: "run" }, spec.language.run, spec.limits, spec.stdin, spec.args, spec.env, undefined, streamed);
      if (aborted()) return cancelled();
      const verdict = runVerdict(stage);
      const run = keeper.settle(stage, result, verdict);
      emit?.({ type: "stage_finished", ref: { stage: "run" }, result: run });
      return finishedResult(header, verdict, { compile, run });
    }
    const tests: TestResult[] = [];
    const sheet = spec.scoring === null ? undefined : new ScoreSheet(spec.scoring, spec.tests);
    let judgeFailed: string | undefined;
    for (const [index, test] of spec.tests.entries()) {
      // A test of a group that failed, or whose dependencies did not pass, is skipped (ScoreSheet).
      if (sheet !== undefined && !sheet.runs(index)) continue;
      const ref = { stage: "test", index, name: test.name } as const;
      // The checker reads the whole stdout as it arrives, however little of it the result keeps;
      // a checker program gets it whole (bounded by the run's output limit) as its output file.
      const builtin = spec.checker.kind === "program" || test.expectedOutput === null ? undefined : startCheck(spec.checker, test.expectedOutput);
      const output = judge === null || interactor !== null ? undefined : contestantOutput(spec.limits);
      const onStdout = builtin !== undefined ? (chunk: Buffer) => builtin.write(chunk) : output === undefined ? undefined : (chunk: Buffer) => output.push(chunk);
      // An interactive test: the run talks to the interactor, which judges it (interact.ts)
      let interaction: Interaction | undefined;
      const withInteractor =
        judge === null || interactor === null
          ? undefined
          : async (request: ExecRequest) => {
              interaction = await interact(container, judge, request, test, { transcript: interactor.transcript, ...(signal === undefined ? {} : { signal }) });
              return interaction.solution;
            };
      const ran = await runStage(ref, spec.language.run, spec.limits, interactor === null ? test.stdin : Buffer.alloc(0), spec.args, spec.env, onStdout, withInteractor);
      if (aborted()) return cancelled();
      const run = ran.stage;
      let verdict = runVerdict(run, builtin === undefined || builtin.end());
      let judged: Pick<TestResult, "checkerMessage" | "judgeFailure" | "interaction"> = {};
      let fraction = 0;
      if (interaction !== undefined) {
        const { outcome, report } = interaction;
        const transcript = report.transcript;
        if (transcript !== undefined) keeper.spend(Buffer.byteLength(transcript.toInteractor) + Buffer.byteLength(transcript.toSolution));
        keeper.spend(Buffer.byteLength(interaction.message));
        // the solution's own limits and crash decide first; then the interactor's verdict
        const judgesIt = verdict === "accepted";
        if (judgesIt) {
          verdict = outcome.kind === "accepted" ? "accepted" : outcome.kind === "wrong_answer" ? "wrong_answer" : "internal_error";
          if (outcome.kind === "wrong_answer") fraction = outcome.fraction;
          if (outcome.kind === "judge_failed") judgeFailed = `test ${test.name}: ${outcome.reason}`;
        }
        judged = { checkerMessage: interaction.message, interaction: report, ...(judgesIt && outcome.kind === "judge_failed" ? { judgeFailure: outcome.reason } : {}) };
      }
      // The checker program judges only a run that ended well: a crash or a limit is the verdict already.
      if (judge !== null && output !== undefined && verdict === "accepted") {
        const checked = await checkTest(judge, test, output.toBuffer(), keeper.allowance("compile"), signal);
        if (aborted()) return cancelled();
        keeper.take("compile", checked.result); // its message is kept like compile output: within the run's budget, whatever keepOutput says
        const { outcome } = checked;
        verdict = outcome.kind === "accepted" ? "accepted" : outcome.kind === "wrong_answer" ? "wrong_answer" : "internal_error";
        if (outcome.kind === "wrong_answer") fraction = outcome.fraction;
        if (outcome.kind === "judge_failed") judgeFailed = `test ${test.name}: ${outcome.reason}`;
        judged = { checkerMessage: checked.message, ...(outcome.kind === "judge_failed" ? { judgeFailure: outcome.reason } : {}) };
      }
      const settled = keeper.settle(run, ran.result, verdict);
      const tested: TestResult = { name: test.name, verdict, ...settled, ...judged, ...(sheet?.record(index, verdict, fraction) ?? {}) };
      tests.push(tested);
      emit?.({ type: "stage_finished", ref, result: settled });
      emit?.({ type: "test_finished", ref, result: tested });
      // A judge that failed once cannot be trusted with the rest.
      if (judgeFailed !== undefined) break;
      if (spec.stopOnFirstFailure && verdict !== "accepted") break;
    }
    const extras: RunExtras = {
      ...(judgeFailed === undefined ? {} : { error: { code: "judge_failed", message: `The ${judgeRole} failed on ${judgeFailed}.` } }),
      ...(judgeReport === undefined ? {} : { judge: judgeReport }),
      ...(sheet === undefined ? {} : scoreExtras(sheet)),
    };
    return finishedResult(header, judgeFailed === undefined ? overallVerdict(tests) : "internal_error", { compile, tests }, extras);
  };
  let result: RunResult | undefined;
  try {
    result = await stages();
  } catch (error) {
    result = aborted() ? cancelled() : failure(header, error);
  } finally {
    signal?.removeEventListener("abort", onAbort);
    const judgeEnded = endJudge();
    if (result !== undefined) {
      markPhase("worker", id, "result");
      options.onResult?.(result);
    }
    await Promise.all([container.destroy(), judgeEnded]);
    markPhase("worker", id, "torn down");
    lease?.release();
  }
  return result;
}

/** A scored run's totals, and its groups when it has any. */
function scoreExtras(sheet: ScoreSheet): RunExtras {
  const { score, maxScore, groups } = sheet.totals();
  return { score, maxScore, ...(groups.length === 0 ? {} : { groups }) };
}

/** Warren's own failure (a WarrenError) as the run's result; anything else is a bug and is thrown on. */
function failure(header: RunHeader, error: unknown): RunResult {
  if (!(error instanceof WarrenError)) throw error;
  return failedResult(header, error);
}
