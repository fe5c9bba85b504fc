import type { StageError } from "../../run/result.js";
/** The statuses of one execution (docs/launcher.md, API.md StageResult.status). */
export const EXEC_STATUSES = [
  "ok",
  "runtime_error",
  "time_limit_exceeded",
  "memory_limit_exceeded",
  "output_limit_exceeded",
  "internal_error",
] as const;
export type ExecStatus = (typeof EXEC_STATUSES)[number];

/** The container's work dir (the launcher's default `--workdir`): the job's files, and every program's cwd. */
export const WORKDIR = "/box";
/** The directories of a container's scratch tmpfs (docs/launcher.md): the job's, writable by its programs. */
export const SCRATCH_DIRS: readonly string[] = [WORKDIR, "/tmp", "/dev/shm"];

/** Limits of one execution. Each absent field means "no such limit". */
export interface ExecLimits {
  readonly wallTimeMs?: number;
  readonly cpuTimeMs?: number;
  readonly memoryMb?: number;
  /** Processes and threads together (the pids controller counts both). */
  readonly processes?: number;
  /** Cap on stdout and stderr together, in KiB. */
  readonly outputKb?: number;
  readonly openFiles?: number;
  /** RLIMIT_FSIZE, in MiB. */
  readonly fileSizeMb?: number;
  readonly stackMb?: number;
  /** CPU bandwidth: at most this many CPUs' worth of time per wall-clock period (the cgroup's CPU quota). */
  readonly cpus?: number;
}

export interface ExecRequest {
  /** The program and its arguments; looked up in PATH of `env` when argv[0] has no `/`. */
  readonly argv: readonly string[];
  /** The whole environment of the program (it starts empty). */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory inside the container; default the work dir. */
  readonly cwd?: string;
  readonly stdin?: Buffer | string;
  readonly limits: ExecLimits;
  /**
   * In a container held with `zygoteHost`: `start` runs the program as the
   * container's zygote (its stdin is its control socket; the execution
   * answers once it says it is ready, and it runs on); `child` runs the
   * execution as a child of that zygote instead of a new program (argv is
   * then not run). docs/launcher.md, "Zygotes".
   */
  readonly zygote?: "start" | "child";
  /**
   * Cancels the execution: the launcher kills the program and everything it
   * started and cleans up; the result is `cancelled` (ExecResult.cancelled).
   */
  readonly signal?: AbortSignal;
  /**
   * The most bytes of output (stdout and stderr together, first come first
   * kept) to keep in the ExecResult; the rest is counted (stdoutDropped,
   * stderrDropped), not kept. Independent of `limits.outputKb`, which stops
   * the program. Default: as much as `limits.outputKb` lets through.
   */
  readonly keepBytes?: number;
  /**
   * Called with each chunk of the program's stdout as it arrives, including
   * the bytes not kept (past keepBytes): lets a caller judge the whole output
   * without holding it. Must not throw.
   */
  readonly onStdout?: (chunk: Buffer, usage?: LiveUsage) => void;
  /** Called with each chunk of the program's stderr as it arrives, kept or not. Must not throw. */
  readonly onStderr?: (chunk: Buffer) => void;
  /**
   * With cgroups, onStdout's second argument is the execution's usage so far
   * (CPU time, peak memory, OOM kills) as the launcher read it just before
   * that chunk (`--usage-frames`, docs/launcher.md): a live reading at a
   * response without reading cgroup files here. The launcher reads at most
   * once a millisecond; a chunk that came sooner has none.
   */
  readonly usageFrames?: boolean;
}

/** A launcher (Warren) failure: which set-up step failed and why; a stage reports it as it is (StageResult.error). */
export type ExecError = StageError;

export interface ExecResult {
  readonly status: ExecStatus;
  /** null when killed by a signal, or when the program never ran (internal_error). */
  readonly exitCode: number | null;
  /** e.g. "SIGKILL". */
  readonly signal: string | null;
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  /** The stream lost bytes: the launcher's output limit cut it, or Warren did not keep all it received (keepBytes). */
  readonly stdoutTruncated: boolean;
  readonly stderrTruncated: boolean;
  /** Bytes the launcher delivered that were not kept (past keepBytes); bytes cut by the output limit are not counted. */
  readonly stdoutDropped: number;
  readonly stderrDropped: number;
  readonly cpuTimeMs: number;
  readonly wallTimeMs: number;
  /** Peak cgroup memory charge in KiB (anonymous memory, page cache, tmpfs pages written, kernel memory). */
  readonly memoryKb: number;
  readonly oomKilled: boolean;
  /**
   * The execution was cancelled (its request's signal fired, or the launcher
   * was told to stop by SIGTERM, SIGINT or SIGHUP): the program was killed, or
   * never started. Not a fault of the program, nor of Warren. The status and
   * error stay what the launcher reports for it, internal_error with step
   * `cancelled` (an execution has no status of its own for it, and a stage
   * has none on the wire: a cancelled run reports no stages).
   */
  readonly cancelled: boolean;
  /** Set only for internal_error. */
  readonly error?: ExecError;
}

/** The result of an execution whose program never ran: nothing kept, no accounting; `error` says why (absent: nothing to say). */
export function notRunResult(error?: ExecError, cancelled = false): ExecResult {
  return {
    status: "internal_error",
    exitCode: null,
    signal: null,
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    stdoutTruncated: false,
    stderrTruncated: false,
    stdoutDropped: 0,
    stderrDropped: 0,
    cpuTimeMs: 0,
    wallTimeMs: 0,
    memoryKb: 0,
    oomKilled: false,
    cancelled,
    ...(error === undefined ? {} : { error }),
  };
}

/** An execution's usage so far, read live from its cgroup. */
export interface LiveUsage {
  readonly cpuTimeMs: number;
  readonly memoryKb: number;
  readonly oomKills: number;
}
