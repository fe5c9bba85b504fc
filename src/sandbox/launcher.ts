import { spawn, type ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import path from "node:path";
import { SandboxError } from "../errors.js";
import { killPids, readPids, removeCgroupTree } from "./cgroup/tree.js";
import { isRunning, waitForClose } from "./child-exit.js";
import type { ExecRequest, ExecResult } from "./exec-types.js";
import { removeJobDir, writeJobDir, type JobFile } from "./job-dir.js";
import { holdArgs, joinArgs, type Bind } from "./launch-args.js";
import { parseStatusLine, readyLineSchema, signalName } from "./launch-status.js";
import { requireLauncher } from "./launcher-path.js";
import { OutputBuffer } from "./output-buffer.js";
import { ROOT_SANDBOX_UID } from "./sandbox-reach.js";

/** fd 3 of every launcher we spawn carries its status lines. */
const STATUS_FD = 3;
/** How long a container may take to come up. */
const START_TIMEOUT_MS = 20_000;
/** How long after its wall limit a join may take before we kill it (the launcher enforces wall time itself). */
const DEADLINE_GRACE_MS = 5_000;
/** Bound on what we read of a launcher's own diagnostics. */
const DIAGNOSTICS_CAP = 16 * 1024;
/** Output we keep beyond the launcher's cap, in case it is off by a pipe buffer. */
const OUTPUT_SLACK = 64 * 1024;
/** Without an output limit, never keep more than this per stream. */
const OUTPUT_HARD_CAP = 64 * 1024 * 1024;

export interface ContainerOptions {
  /** The image's read-only root (the overlay's lower layer). */
  readonly rootfs: string;
  readonly binds?: readonly Bind[];
  /** Size of the scratch tmpfs (the disk limit of the whole container). */
  readonly scratchMb?: number;
  /** The job's files, copied into the work dir before anything runs. */
  readonly files?: readonly JobFile[];
  /** Parent cgroups for each execution (CgroupDriver.parents); empty means no cgroup limits are possible. */
  readonly cgroups: readonly string[];
  readonly workdir?: string;
  readonly hostname?: string;
  /** The launcher binary; default requireLauncher(). */
  readonly launcher?: string;
}

/**
 * One held container (`warren-launch --hold`): a scratch layer that lives
 * for a whole job, in which `exec` runs one program at a time. A program's
 * misbehaviour is a status in its ExecResult; only Warren's own failures throw
 * (SandboxError, InvalidRequestError, LauncherNotFoundError).
 */
export class Container {
  readonly #holder: ChildProcess;
  readonly #launcher: string;
  readonly #cgroups: readonly string[];
  readonly #diagnostics: OutputBuffer;
  /** The container's init, in our pid namespace. */
  readonly pid: number;

  private constructor(holder: ChildProcess, launcher: string, pid: number, cgroups: readonly string[], diagnostics: OutputBuffer) {
    this.#holder = holder;
    this.#launcher = launcher;
    this.pid = pid;
    this.#cgroups = cgroups;
    this.#diagnostics = diagnostics;
  }

  static async create(options: ContainerOptions): Promise<Container> {
    const launcher = options.launcher ?? requireLauncher();
    const copyIn = await writeJobDir(options.files ?? [], sandboxOwner());
    try {
      const args = holdArgs(
        {
          rootfs: options.rootfs,
          copyIn,
          ...(options.binds === undefined ? {} : { binds: options.binds }),
          ...(options.scratchMb === undefined ? {} : { scratchMb: options.scratchMb }),
          ...(options.workdir === undefined ? {} : { workdir: options.workdir }),
          ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
        },
        STATUS_FD,
      );
      // stdin stays open: its EOF is how the holder learns to tear the container down,
      // so even if this process dies, the container goes with it.
      const holder = spawn(launcher, args, { stdio: ["pipe", "ignore", "pipe", "pipe"] });
      const diagnostics = new OutputBuffer(DIAGNOSTICS_CAP);
      // A ChildProcess 'error' without a listener would crash the runner; the
      // failures that matter surface through waitForReady and `alive`.
      holder.on("error", (error) => diagnostics.push(Buffer.from(`\n[warren] ${error.message}\n`)));
      holder.stderr?.on("data", (chunk: Buffer) => diagnostics.push(chunk));
      holder.stdin?.on("error", () => {}); // EPIPE once the holder is gone; its exit is what matters
      const pid = await waitForReady(holder, diagnostics);
      return new Container(holder, launcher, pid, options.cgroups, diagnostics);
    } finally {
      // The launcher has copied the files by the time it says ready (or it failed).
      await removeJobDir(copyIn);
    }
  }

  /** Whether the holder (and so the container) is still up. */
  get alive(): boolean {
    return isRunning(this.#holder);
  }

  /** Runs one program in the container and reports how it went. */
  async exec(request: ExecRequest): Promise<ExecResult> {
    if (!this.alive) {
      throw new SandboxError("container_gone", `The container (init pid ${this.pid}) is gone: its launcher exited (${describeExit(this.#holder)}). ${this.#diagnosticsText()}`);
    }
    const args = joinArgs(
      {
        pid: this.pid,
        cgroups: this.#cgroups,
        argv: request.argv,
        limits: request.limits,
        ...(request.env === undefined ? {} : { env: request.env }),
        ...(request.cwd === undefined ? {} : { cwd: request.cwd }),
      },
      STATUS_FD,
    );
    const outputCap =
      request.limits.outputKb === undefined ? OUTPUT_HARD_CAP : Math.min(OUTPUT_HARD_CAP, request.limits.outputKb * 1024 + OUTPUT_SLACK);
    const stdout = new OutputBuffer(outputCap);
    const stderr = new OutputBuffer(outputCap);
    const status = new OutputBuffer(DIAGNOSTICS_CAP);
    if (request.signal?.aborted === true) return cancelledResult();
    const child = spawn(this.#launcher, args, { stdio: ["pipe", "pipe", "pipe", "pipe"] });
    // SIGTERM is the launcher's "cancel": it kills the program's cgroup and cleans up.
    const cancel = () => child.kill("SIGTERM");
    request.signal?.addEventListener("abort", cancel, { once: true });
    const spawnError = new Promise<Error>((resolve) => child.on("error", resolve));
    child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    (child.stdio[STATUS_FD] as Readable).on("data", (chunk: Buffer) => status.push(chunk));
    // A program that does not read its stdin closes the pipe early: not our failure.
    child.stdin?.on("error", () => {});
    child.stdin?.end(request.stdin ?? "");

    let deadlineHit = false;
    const deadline =
      request.limits.wallTimeMs === undefined
        ? undefined
        : setTimeout(() => {
            deadlineHit = true;
            child.kill("SIGKILL");
          }, request.limits.wallTimeMs + DEADLINE_GRACE_MS);
    const exit = await Promise.race([waitForClose(child), spawnError]);
    clearTimeout(deadline);
    request.signal?.removeEventListener("abort", cancel);
    if (exit instanceof Error) throw new SandboxError("launcher_failed", `Could not start ${this.#launcher}: ${exit.message}`);

    const base = {
      stdout: stdout.toBuffer(),
      stderr: stderr.toBuffer(),
    };
    const failed = (step: string, message: string, errno: number | null = null): ExecResult => ({
      ...base,
      status: "internal_error",
      exitCode: null,
      signal: null,
      stdoutTruncated: stdout.overflowed,
      stderrTruncated: stderr.overflowed,
      cpuTimeMs: 0,
      wallTimeMs: 0,
      memoryKb: 0,
      oomKilled: false,
      error: { step, errno, message },
    });
    if (deadlineHit) {
      return failed("deadline", `warren-launch did not finish within the wall-time limit plus ${DEADLINE_GRACE_MS} ms; Warren killed it.`);
    }
    const line = parseStatusLine(status.toBuffer().toString("utf8"));
    if (line === undefined) {
      // The launcher died (killed, crashed) before cleaning up: its execution's
      // cgroups (named after its pid) would stay until the next start-up.
      if (child.pid !== undefined) await removeExecCgroups(this.#cgroups, child.pid);
      return failed("status", `warren-launch exited (${exit.signal ?? `code ${exit.code}`}) without a valid status line.`);
    }
    if (line.status === "internal_error") return failed(line.step, line.message, line.errno);
    return {
      ...base,
      status: line.status,
      exitCode: line.exitCode,
      signal: signalName(line.signal),
      // The launcher caps both streams together and reports one flag; its
      // stdoutBytes/stderrBytes count what it forwarded, not what the program
      // wrote, so which stream lost bytes is unknown: once the cap was hit
      // (and the program killed mid-write) neither stream is known complete.
      stdoutTruncated: stdout.overflowed || line.stdoutTruncated,
      stderrTruncated: stderr.overflowed || line.stderrTruncated,
      cpuTimeMs: line.cpuTimeMs,
      wallTimeMs: line.wallTimeMs,
      memoryKb: line.memoryKb,
      oomKilled: line.oomKilled,
    };
  }

  /**
   * Copies files into the work dir of the running container (`--join PID
   * --copy-in DIR` with no program): how a container made ahead of time, with
   * no job yet, receives its job's files. The copy is made inside the
   * container as the sandbox user; a file that already exists is an error.
   */
  async copyIn(files: readonly JobFile[]): Promise<void> {
    if (files.length === 0) return;
    if (!this.alive) throw new SandboxError("container_gone", `The container (init pid ${this.pid}) is gone. ${this.#diagnosticsText()}`);
    const dir = await writeJobDir(files, sandboxOwner());
    try {
      const status = new OutputBuffer(DIAGNOSTICS_CAP);
      const stderr = new OutputBuffer(DIAGNOSTICS_CAP);
      const child = spawn(this.#launcher, ["--join", String(this.pid), "--copy-in", dir, "--status-fd", String(STATUS_FD)], {
        stdio: ["ignore", "ignore", "pipe", "pipe"],
      });
      const spawnError = new Promise<Error>((resolve) => child.on("error", resolve));
      child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
      (child.stdio[STATUS_FD] as Readable).on("data", (chunk: Buffer) => status.push(chunk));
      const exit = await Promise.race([waitForClose(child), spawnError]);
      if (exit instanceof Error) throw new SandboxError("launcher_failed", `Could not start ${this.#launcher}: ${exit.message}`);
      const line = parseStatusLine(status.toBuffer().toString("utf8"));
      if (line?.status !== "ok") {
        const why = line?.status === "internal_error" ? `step ${line.step} failed: ${line.message}` : stderr.toBuffer().toString("utf8").trim();
        throw new SandboxError("copy_in_failed", `Could not copy the job's files into the container: ${why}`);
      }
    } finally {
      await removeJobDir(dir);
    }
  }

  /** Ends the container (every process in it) and waits for the holder. Idempotent. */
  async destroy(): Promise<void> {
    const holder = this.#holder;
    if (!isRunning(holder)) {
      await waitForClose(holder);
      return;
    }
    const closed = waitForClose(holder);
    holder.stdin?.end();
    const grace = setTimeout(() => holder.kill("SIGKILL"), 5_000);
    await closed;
    clearTimeout(grace);
  }

  #diagnosticsText(): string {
    const text = this.#diagnostics.toBuffer().toString("utf8").trim();
    return text === "" ? "" : `Its stderr: ${text}`;
  }
}

/** Waits for the holder's `{"ready":true,"pid":N}` line; throws SandboxError when it fails or is slow. */
function waitForReady(holder: ChildProcess, diagnostics: OutputBuffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const statusStream = holder.stdio[STATUS_FD] as Readable;
    let text = "";
    const fail = (message: string, details?: unknown) => {
      cleanup();
      holder.kill("SIGKILL");
      const stderr = diagnostics.toBuffer().toString("utf8").trim();
      reject(new SandboxError("container_start_failed", stderr === "" ? message : `${message} Launcher stderr: ${stderr}`, details));
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString("utf8");
      const newline = text.indexOf("\n");
      if (newline < 0) {
        if (text.length > DIAGNOSTICS_CAP) fail("The launcher wrote an over-long status line.");
        return;
      }
      const line = text.slice(0, newline);
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        fail(`The launcher wrote a status line that is not JSON: ${line.slice(0, 200)}`);
        return;
      }
      const ready = readyLineSchema.safeParse(json);
      if (ready.success) {
        cleanup();
        resolve(ready.data.pid);
        return;
      }
      const failure = parseStatusLine(line);
      if (failure?.status === "internal_error") {
        fail(`The container could not be created: step ${failure.step} failed: ${failure.message}${failure.errno === null ? "" : ` (errno ${failure.errno})`}.`, failure);
        return;
      }
      fail(`The launcher wrote an unexpected status line: ${line.slice(0, 200)}`);
    };
    const onExit = () => {
      // Let a final status line that raced with the exit be read first.
      setImmediate(() => fail(`The launcher exited (${describeExit(holder)}) before the container was ready.`));
    };
    const onError = (error: Error) => fail(`Could not start the launcher: ${error.message}`);
    const timer = setTimeout(() => fail(`The container was not ready within ${START_TIMEOUT_MS} ms.`), START_TIMEOUT_MS);
    const cleanup = () => {
      clearTimeout(timer);
      statusStream.off("data", onData);
      holder.off("exit", onExit);
      holder.off("error", onError);
    };
    statusStream.on("data", onData);
    holder.once("exit", onExit);
    holder.once("error", onError);
  });
}

function describeExit(child: ChildProcess): string {
  if (child.signalCode !== null) return `killed by ${child.signalCode}`;
  return `exit code ${child.exitCode}`;
}

/** Kills what is left in, and removes, the execution cgroups of launcher `pid` (docs/launcher.md: `warren-PID`). */
async function removeExecCgroups(parents: readonly string[], pid: number): Promise<void> {
  for (const parent of parents) {
    try {
      await removeCgroupTree(path.join(parent, `warren-${pid}`), async (dir) => killPids(await readPids(dir)));
    } catch {
      // left for reapStale at the next start-up; the run's result says what happened
    }
  }
}

/** As root, the launcher maps the sandbox to this host id (its --sandbox-uid default): job files must be its. */
function sandboxOwner(): { uid: number; gid: number } | undefined {
  return process.getuid?.() === 0 ? { uid: ROOT_SANDBOX_UID, gid: ROOT_SANDBOX_UID } : undefined;
}

/** The result of an execution cancelled before it started (the same shape the launcher reports). */
function cancelledResult(): ExecResult {
  return {
    status: "internal_error",
    exitCode: null,
    signal: null,
    stdout: Buffer.alloc(0),
    stderr: Buffer.alloc(0),
    stdoutTruncated: false,
    stderrTruncated: false,
    cpuTimeMs: 0,
    wallTimeMs: 0,
    memoryKb: 0,
    oomKilled: false,
    error: { step: "cancelled", errno: null, message: "The execution was cancelled." },
  };
}
