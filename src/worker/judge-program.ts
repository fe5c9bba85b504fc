import { containerOptions } from "../sandbox/container/container-options.js";
import { InvalidRequestError } from "../errors.js";
import type { JobFileSpec, TestSpec } from "../run/job-spec.js";
import type { Limits } from "../run/limits.js";
import type { StageResult } from "../run/result.js";
import { compiled } from "../run/verdict.js";
import { Container, type ExecStream } from "../sandbox/container/container.js";
import type { ExecRequest, ExecResult } from "../sandbox/container/exec-types.js";
import type { Image } from "../sandbox/images/host-image.js";
import { expandCommand, type Language } from "../sandbox/images/languages.js";
import type { ImageLease } from "../sandbox/images/store/lease.js";
import type { SandboxHost } from "../sandbox/sandbox-host.js";
import { imageOf } from "./job-image.js";
import { execLimits, toStageResult } from "./stage-exec.js";

/**
 * The judge program API: a problem setter's program (a checker, an
 * interactor) that judges a contestant's runs. It is code Warren did not
 * write, so it runs sandboxed like the contestant's: in a container of its
 * own (its own scratch layer, its own limits, never the contestant's), built
 * and compiled once per job by `prepare`, then run any number of times by
 * `run`, each run given its own files, and destroyed with the job.
 *
 *   const prepared = await JudgeProgram.prepare(spec, host);
 *   if (prepared.program === null) … prepared.compile is the judge's compile_error …
 *   const result = await prepared.program.run({ files: [{ name: "input", content }], args: [] });
 *   await prepared.program.destroy();
 *
 * A run's files are written into a directory of their own (`.warren-runs/N/`
 * below the work dir, beside the judge's own files and build) and passed as
 * the first arguments, in the order given, then `args` (testlib's order:
 * `checker input output answer`, `interactor input output`). Each run's
 * directory is removed as the next run starts, so the scratch layer holds at
 * most two runs' files (JudgeProgramSpec.runFilesBytes sizes it).
 */

export interface JudgeProgramSpec {
  /** The judge's language, resolved against the installed images (any language of any image). */
  readonly language: Language;
  /** Its source files; the first is the entry point. */
  readonly files: readonly JobFileSpec[];
  /** The limits of each run. */
  readonly limits: Limits;
  /** The limits of its compile stage (when its language has one). */
  readonly compileLimits: Limits;
  /**
   * The most bytes the files of one run can hold (a checker's: the test's
   * input, the contestant's output up to its output limit, the answer). The
   * scratch layer gets room for two runs' files besides the disk limits.
   */
  readonly runFilesBytes: number;
  /** The most output bytes (stdout and stderr together) its compile stage keeps. @defaultValue JUDGE_COMPILE_KEEP_BYTES */
  readonly compileKeepBytes?: number;
}

/** What a judge's compile stage keeps of its output by default: enough for a compiler's errors, bounded whatever the setter's code makes it print. */
export const JUDGE_COMPILE_KEEP_BYTES = 64 * 1024;

/**
 * The spec of a judge PROGRAM (a checker or an interactor) for TESTS: each
 * run's files hold a test's input and answer, and EXTRA_FILE_BYTES besides
 * (a checker's: the contestant's output); its compile keeps no more than a
 * result holds (RESULT_MAX_BYTES).
 */
export function judgeProgramSpec(
  program: { readonly language: Language; readonly files: readonly JobFileSpec[]; readonly limits: Limits; readonly compileLimits: Limits },
  tests: readonly TestSpec[],
  extraFileBytes: number,
  resultMaxBytes: number,
): JudgeProgramSpec {
  const largest = tests.reduce((most, test) => Math.max(most, test.stdin.length + Buffer.byteLength(test.expectedOutput ?? "", "utf8")), 0);
  return {
    language: program.language,
    files: program.files,
    limits: program.limits,
    compileLimits: program.compileLimits,
    runFilesBytes: largest + extraFileBytes,
    compileKeepBytes: Math.min(JUDGE_COMPILE_KEEP_BYTES, resultMaxBytes),
  };
}

/** One file of a run: a single path segment, written into the run's own directory. */
export interface JudgeRunFile {
  readonly name: string;
  readonly content: Buffer;
}

export interface JudgeRunRequest {
  /** Written into the run's directory and passed, as paths relative to the work dir, as the first arguments. */
  readonly files: readonly JudgeRunFile[];
  /** Arguments after the files' paths. */
  readonly args?: readonly string[];
  readonly stdin?: Buffer;
  /** The most output bytes (stdout and stderr together) the ExecResult keeps (ExecRequest.keepBytes). */
  readonly keepBytes?: number;
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
  /** Cancels the run (ExecRequest.signal). */
  readonly signal?: AbortSignal;
}

/**
 * What `prepare` made: the program, ready to run (with its compile stage,
 * null for a language without one), or its compile stage when the judge did
 * not compile (its container is gone then). A compile that Warren failed
 * (status internal_error) is reported the same way; the caller tells them
 * apart by the stage's status, as for a contestant's compile.
 */
export type JudgePreparation =
  | { readonly program: JudgeProgram; readonly compile: StageResult | null }
  | { readonly program: null; readonly compile: StageResult };

/** Where each run's files go, below the work dir. */
const RUNS_DIR = ".warren-runs";
/** A run's file names: one plain segment, so a name cannot leave its run's directory. */
const RUN_FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const MIB = 1024 * 1024;

export class JudgeProgram {
  readonly #container: Container;
  readonly #image: Image;
  readonly #lease: ImageLease | undefined;
  readonly #spec: JudgeProgramSpec;
  #runs = 0;
  #destroyed = false;

  private constructor(container: Container, image: Image, lease: ImageLease | undefined, spec: JudgeProgramSpec) {
    this.#container = container;
    this.#image = image;
    this.#lease = lease;
    this.#spec = spec;
  }

  /**
   * Makes the judge's container and compiles it once. Warren's own failures
   * (no image, a container that does not start) throw, as they do for the
   * contestant's; a judge that does not compile is `{ program: null, compile }`.
   * `signal` destroys the container (the compile then ends as cancelled and
   * this resolves with program null).
   */
  static async prepare(spec: JudgeProgramSpec, host: SandboxHost, signal?: AbortSignal): Promise<JudgePreparation> {
    if (!Number.isSafeInteger(spec.runFilesBytes) || spec.runFilesBytes < 0) throw new RangeError(`Expected runFilesBytes to be a non-negative integer, got ${spec.runFilesBytes}.`);
    const image = imageOf(host, spec.language.image);
    const lease = image.acquire?.();
    let container: Container;
    try {
      // Not from the warm pool: the pool's containers are sized for contestants' jobs, not for a judge's run files.
      container = await Container.create(
        containerOptions(host, image, {
          scratchMb: Math.max(spec.limits.diskMb, spec.language.compile === null ? 0 : spec.compileLimits.diskMb) + Math.ceil((2 * spec.runFilesBytes) / MIB),
          files: spec.files,
        }),
      );
    } catch (error) {
      lease?.release();
      throw error;
    }
    const program = new JudgeProgram(container, image, lease, spec);
    const onAbort = () => void program.destroy();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      if (signal?.aborted === true) onAbort();
      if (spec.language.compile === null) return { program, compile: null };
      const result = await container.exec({
        argv: program.#argv(spec.language.compile, spec.compileLimits),
        env: image.env,
        limits: execLimits(spec.compileLimits),
        keepBytes: spec.compileKeepBytes ?? JUDGE_COMPILE_KEEP_BYTES,
      });
      const compile = toStageResult(result);
      if (compiled(compile)) return { program, compile };
      await program.destroy();
      return { program: null, compile };
    } catch (error) {
      await program.destroy();
      throw error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Runs the judge once with REQUEST's files and arguments, under the judge's
   * run limits. Its misbehaviour (a crash, a limit) is a status in the
   * ExecResult, as a contestant's is: the caller decides that it is the
   * judge's failure. Runs are served one after another.
   */
  run(request: JudgeRunRequest): Promise<ExecResult> {
    return this.#container.exec(this.#execRequest(request));
  }

  /**
   * Starts a run whose stdin is a stream (Container.start), with REQUEST's
   * files and arguments, under the judge's run limits: an interactor's, that
   * talks to a contestant's program while both run. `request.stdin`, if any,
   * is its first write.
   */
  start(request: JudgeRunRequest): ExecStream {
    return this.#container.start(this.#execRequest(request));
  }

  /**
   * The execution of the next run: its files attached to the container's next
   * request, its argv and limits. Kept apart from serving it so that another
   * way of serving a run (a streamed execution, e.g. an interactor's) shares
   * the files, the run directories and the command line.
   */
  #execRequest(request: JudgeRunRequest): ExecRequest {
    const n = ++this.#runs;
    const dir = `${RUNS_DIR}/${n}`;
    for (const file of request.files) {
      if (!RUN_FILE_NAME.test(file.name)) throw new InvalidRequestError(`A judge run's file name must be one plain segment, got ${JSON.stringify(file.name)}.`);
    }
    const paths = request.files.map((file) => `${dir}/${file.name}`);
    this.#container.attachFiles(request.files.map((file, i) => ({ path: paths[i] ?? "", content: file.content })));
    const program = [...this.#argv(this.#spec.language.run, this.#spec.limits), ...paths, ...(request.args ?? [])];
    // The previous run's files go as this one starts: a shell removes them and
    // execs the judge in its place (same process: its exit status and signal are the judge's own).
    const argv = n === 1 ? program : ["sh", "-c", 'rm -rf -- "$0" 2>/dev/null; exec "$@"', `${RUNS_DIR}/${n - 1}`, ...program];
    return {
      argv,
      env: this.#image.env,
      limits: execLimits(this.#spec.limits),
      ...(request.stdin === undefined ? {} : { stdin: request.stdin }),
      ...(request.keepBytes === undefined ? {} : { keepBytes: request.keepBytes }),
      ...(request.onStdout === undefined ? {} : { onStdout: request.onStdout }),
      ...(request.onStderr === undefined ? {} : { onStderr: request.onStderr }),
      ...(request.signal === undefined ? {} : { signal: request.signal }),
    };
  }

  /** Ends the judge's container and releases its image. Idempotent. */
  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    try {
      await this.#container.destroy();
    } finally {
      this.#lease?.release();
    }
  }

  /** A command of the judge's language, expanded for its files. */
  #argv(template: readonly string[], limits: Limits): string[] {
    return expandCommand(template, this.#spec.language, { files: this.#spec.files.map((file) => file.path), memoryMb: limits.memoryMb });
  }
}
