import os from "node:os";
import path from "node:path";
import { SCRATCH_DIRS, type ExecError } from "../sandbox/container/exec-types.js";
import type { StageResult } from "../run/result.js";

/*
 * Whose fault is it when a stage's program could not be started?
 *
 * The launcher reports a failed execve as Warren's failure (status
 * internal_error, step "execve"), since it cannot know whose program it was.
 * Warren's failures are retried, so a job whose build yields no runnable
 * program would be run three times and then reported as Warren's fault. This
 * is the one place that decides.
 *
 * The failure is the job's when what could not be executed came from the job:
 *   - the program's path is in the job's scratch: a path relative to the work
 *     dir (`./main`), or below the work dir, /tmp or /dev/shm, or a file the
 *     launcher found there (it compares the file's device with the work dir's,
 *     so a link from elsewhere into the scratch counts too);
 *   - a bare name looked up in a PATH the job set itself (its `env`);
 *   - the same program (name and PATH) started in an earlier stage of this
 *     job: the image is read-only, so only the job's writes (its scratch, or
 *     the overlay's upper layer in a built image) can have changed it since;
 *   - E2BIG: the argument list and environment outgrew the kernel's limit,
 *     which only what the job adds to them (args, env, file names) can do.
 * and the errno says that the file could not be executed (the list below). It
 * is Warren's fault otherwise: the image's own program is missing or broken
 * (python3 not in the image, a runtime whose interpreter is gone), execve
 * failed for another reason (ENOMEM, EFAULT, ...), or any other set-up step
 * failed.
 *
 * The job's fault makes the stage a runtime_error — not a compile_error, even
 * when the compile stage succeeded and left no runnable ./main: the compile
 * stage's own result is what the compiler said (it exited 0), the verdict is
 * the stage's that failed, as for any run, and the same ./main is judged the
 * same way whether the compiler or an earlier test made it unrunnable. The
 * explanation on stderr says which it was.
 */

const E = os.constants.errno;
/** Linux's ELIBBAD (Node's os.constants has none): an ELF interpreter the kernel cannot load. */
const ELIBBAD = 80;

/** The errnos that say a file could not be executed, and how stderr names each. */
const REASONS: ReadonlyMap<number, string> = new Map([
  [E.ENOENT, "no such file"],
  [E.EACCES, "permission denied"],
  [E.ENOEXEC, "exec format error"],
  [E.ELOOP, "too many levels of symbolic links"],
  [E.ENOTDIR, "not a directory"],
  [E.EISDIR, "is a directory"],
  [E.ETXTBSY, "text file busy"],
  [E.ENAMETOOLONG, "file name too long"],
  [E.E2BIG, "argument list too long"],
  [ELIBBAD, "bad ELF interpreter"],
]);

/** What is known of the stage's program besides the launcher's report. */
export interface StartContext {
  /** argv[0] as the launcher got it: a path (`./main`) or a name looked up in PATH (`python3`). */
  readonly program: string;
  /** The PATH the program got, and the image's own: they differ when the job set PATH. */
  readonly path: string | undefined;
  readonly imagePath: string | undefined;
  /** The same program (name and PATH) started in an earlier stage of this job. */
  readonly startedBefore: boolean;
  /** A run stage after a successful compile stage (for the explanation only). */
  readonly afterCompile: boolean;
}

export type Blame = { readonly fault: "job"; readonly explanation: string } | { readonly fault: "warren" };

/** The rule (see the top of this file): whose fault a launcher failure of a stage is. */
export function blameStartFailure(error: ExecError, context: StartContext): Blame {
  const reason = error.errno === null ? undefined : REASONS.get(error.errno);
  if (error.step !== "execve" || reason === undefined) return { fault: "warren" };
  const { program } = context;
  const named = !program.includes("/");
  const jobs =
    (!named && inScratch(program)) ||
    error.scratch === true ||
    (named && context.path !== context.imagePath) ||
    context.startedBefore ||
    error.errno === E.E2BIG;
  return jobs ? { fault: "job", explanation: `${reason} — ${explain(error, context)}` } : { fault: "warren" };
}

/**
 * A stage as its verdict should see it: when its program could not be started
 * through the job's own doing, a runtime_error (no exit code: it never ran)
 * with the reason on stderr; otherwise unchanged.
 */
export function settleStart(stage: StageResult, context: StartContext): StageResult {
  if (stage.status !== "internal_error" || stage.error === undefined) return stage;
  const blame = blameStartFailure(stage.error, context);
  if (blame.fault === "warren") return stage;
  const { error: _error, ...rest } = stage;
  return { ...rest, status: "runtime_error", exitCode: null, signal: null, stderr: `${stage.stderr}warren: the program could not be started: ${blame.explanation}\n` };
}

/**
 * One job's program starts, to tell for each stage whether its program started
 * before (StartContext.startedBefore). One per job: its stages share a container.
 */
export class ProgramStarts {
  readonly #started = new Set<string>();

  /**
   * Settles a stage (settleStart) whose program was PROGRAM with the
   * environment ENV (the image's IMAGE_ENV and what the job added), and
   * remembers the program when it started.
   */
  settle(stage: StageResult, how: { readonly program: string; readonly env: Readonly<Record<string, string>>; readonly imageEnv: Readonly<Record<string, string>>; readonly afterCompile: boolean }): StageResult {
    const { program, env, imageEnv, afterCompile } = how;
    const key = `${env.PATH ?? ""}\0${program}`;
    const startedBefore = this.#started.has(key);
    if (stage.status !== "internal_error") this.#started.add(key);
    return settleStart(stage, { program, path: env.PATH, imagePath: imageEnv.PATH, startedBefore, afterCompile });
  }
}

/** Whether a program path (one with a `/`) is in the job's scratch: relative paths resolve in the work dir. */
function inScratch(program: string): boolean {
  if (!program.startsWith("/")) return true;
  const normal = path.posix.normalize(program);
  return SCRATCH_DIRS.some((dir) => normal === dir || normal.startsWith(`${dir}/`));
}

/** Why, in the job's terms (what follows the reason on stderr). */
function explain(error: ExecError, context: StartContext): string {
  const { program, startedBefore, afterCompile } = context;
  const file = error.path ?? program;
  const interpreter = error.interpreter;
  const earlier = startedBefore ? " (it started in an earlier test of this job, which changed it since)" : "";
  switch (error.errno) {
    case E.ENOENT:
      if (interpreter !== undefined) return `its interpreter ${interpreter} is missing${earlier}`;
      if (error.path === undefined) {
        const set = context.path !== context.imagePath ? ` (the job set it to ${JSON.stringify(context.path ?? "")})` : "";
        return `${program} is not in PATH${set}${earlier}`;
      }
      if (startedBefore) return `${file} is gone; an earlier test of this job removed it`;
      return afterCompile ? `the compile stage produced no ${file}` : `there is no ${file}`;
    case E.EACCES:
      return interpreter !== undefined ? `its interpreter ${interpreter} is not executable${earlier}` : `${file} is not executable${earlier}`;
    case E.ENOEXEC:
      return afterCompile && !startedBefore ? "the build produced no runnable program" : `${file} is not a program${earlier}`;
    case E.ELOOP:
      return interpreter !== undefined ? `its interpreter ${interpreter} is a loop of links or interpreters${earlier}` : `${file} is a loop of symbolic links${earlier}`;
    case E.EISDIR:
      return `its interpreter ${interpreter ?? "(unknown)"} is a directory${earlier}`;
    case ELIBBAD:
      return `its interpreter ${interpreter ?? "(unknown)"} is not a program the kernel can load${earlier}`;
    case E.ETXTBSY:
      return `${file} is open for writing${earlier}`;
    case E.E2BIG:
      return "the arguments and environment are over the kernel's limit";
    default:
      return `${file}${earlier}`;
  }
}
