import type { Readable } from "node:stream";
import path from "node:path";
import { SandboxError } from "../../errors.js";
import { executionUsage, occupiedExecutions, killPids, readPids, removeCgroupTree, type CgroupUsage } from "../cgroup/tree.js";
import { isRunning, waitForClose } from "./child-exit.js";
import { notRunResult, type ExecError, type ExecRequest, type ExecResult, type LiveUsage } from "./exec-types.js";
import { encodeJobFiles, type JobFile } from "./job-files.js";
import { execArgs, holdArgs, type Bind } from "./launch-args.js";
import { parseStatusLine, readyPid, signalName } from "./launch-status.js";
import { requireLauncher } from "./launcher-path.js";
import { spawnLauncher, type LauncherProcess } from "./fast-spawn.js";
import { ByteAllowance, OutputBuffer } from "./output-buffer.js";
import os from "node:os";
import { AnswerReader, decodeUsage, encodeCancel, encodeExecRequest, encodeStdinEnd, encodeStdinHeader, RELAY_SIGNALS, relaySignal } from "./served-frames.js";

/**
 * A held launcher writes its ready line (or its failure's status line) on its
 * stderr, among its own diagnostics: one pipe and one Socket fewer per
 * container than a status fd of its own (docs/performance.md). Nothing but
 * the launcher writes there (the container's init and programs never hold
 * it), its diagnostics are lines that start `warren-launch:` (or a C
 * library's message), and its status lines start `{`: waitForReady tells them apart.
 */
const STATUS_FD = 2;
/** How long a container may take to come up. */
const START_TIMEOUT_MS = 20_000;
/** How long after its wall limit an execution may take to be answered before we kill the container (the launcher enforces wall time itself). */
const DEADLINE_GRACE_MS = 5_000;
/** How often a streamed execution's cancel sends SIGUSR1 again until its answer comes (#serve). */
const CANCEL_RESEND_MS = 20;
/** Bound on what we read of a launcher's own diagnostics. */
const DIAGNOSTICS_CAP = 16 * 1024;
/** The set-up step the launcher names when it ends an execution it was told to cancel (a cancel frame, SIGTERM, SIGINT, SIGHUP). */
const CANCELLED_STEP = "cancelled";
/** Output we keep beyond the launcher's cap, in case it is off by a pipe buffer. */
const OUTPUT_SLACK = 64 * 1024;
/** Without an output limit, never keep more than this per stream. */
const OUTPUT_HARD_CAP = 64 * 1024 * 1024;
/**
 * A streamed execution's stdin bytes that Warren holds, written and not yet
 * taken by the launcher's pipe: a writer that awaits its writes, or pauses
 * its source when one waits (ExecStream.write), never holds near this much.
 */
const STDIN_QUEUE_CAP = 1024 * 1024;

/**
 * An execution whose stdin is a stream (Container.start): written while the
 * program runs, with backpressure. Its output comes through the request's
 * onStdout and onStderr as it is produced, and whole in `result`.
 */
export interface ExecStream {
  /**
   * Sends CHUNK to the program's stdin. Resolves once the launcher's pipe has
   * taken it (it holds one buffer for the program's stdin at most, and stops
   * reading while it waits): a program that does not read keeps the writes
   * pending. Await each write, or pause what feeds them; more than 1 MiB
   * written and not taken is refused (RangeError). Once the execution has
   * ended, writes resolve at once and their bytes are dropped, as the
   * launcher drops what a program that closed its stdin was sent.
   */
  write(chunk: Buffer | string): Promise<void>;
  /** Ends the program's stdin (it reads EOF once what was written is read). Writes after it are refused. */
  end(): Promise<void>;
  /**
   * Stops reading the container's output (its launcher then holds one frame
   * and stops reading the program, which blocks on its writes; the limits
   * hold): how a relay passes backpressure on. Meanwhile the client's own
   * deadline for the answer (the wall limit plus 5 s, against a holder that
   * is broken) is held too.
   */
  pauseOutput(): void;
  resumeOutput(): void;
  /**
   * Sends signal NAME (e.g. "SIGINT"; one of signals 1 to 15) to every
   * process of the execution (its cgroup's), out of band: at once, even
   * while stdin the program does not read waits (a relayed signal,
   * docs/launcher.md *Signals*), and held by the launcher until the program
   * has started. A program killed by it ends as any killed program does
   * (`runtime_error` with its signal): it is neither a limit nor a cancel.
   * Ignored once the execution has ended; a name that is not such a signal
   * throws RangeError.
   */
  signal(name: string): void;
  /** How it went, once it has ended (as exec()'s). */
  readonly result: Promise<ExecResult>;
}

export interface ContainerOptions {
  /** The image's read-only root (the overlay's lower layer). */
  readonly rootfs: string;
  readonly binds?: readonly Bind[];
  /** Size of the scratch tmpfs (the disk limit of the whole container). */
  readonly scratchMb?: number;
  /** The job's files: written into the work dir by the first exec(), before its program runs (attachFiles()). */
  readonly files?: readonly JobFile[];
  /** Parent cgroups for each execution (CgroupDriver.parents); empty means no cgroup limits are possible. */
  readonly cgroups: readonly string[];
  readonly workdir?: string;
  readonly hostname?: string;
  /** The launcher binary; default requireLauncher(). */
  readonly launcher?: string;
  /** Start the launcher with child_process.spawn instead of posix_spawn (WARREN_NODE_SPAWN). @defaultValue false */
  readonly nodeSpawn?: boolean;
  /** The container may hold a zygote (`--zygote-host`; ExecRequest.zygote, docs/launcher.md "Zygotes"). @defaultValue false */
  readonly zygoteHost?: boolean;
  /** Its /proc is the launcher's own, bound (`--bind-proc`, WARREN_BIND_PROC). @defaultValue false */
  readonly bindProc?: boolean;
}

/** What one execution may keep of its output: `cap` per stream, and `shared` bytes of both together. */
interface KeepCaps {
  readonly cap: number;
  readonly shared?: number;
}

/** How a request is served: a streamed execution (cancelled by SIGUSR1), and when its request has been written (its ordinal among the exec requests). */
interface ServeHow {
  readonly streamed?: boolean;
  readonly onSent?: (ordinal: number) => void;
  /** Its answer's deadline, once it runs (a stream's pauseOutput holds it). */
  readonly onDeadline?: (deadline: Deadline) => void;
  /** It runs a program (`--unpack` alone does not). */
  readonly program?: boolean;
}

/** Calls `fire` once `ms` of running time have passed (none: never); held, the time does not run. */
class Deadline {
  #left: number | undefined;
  #since = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #fire: () => void;

  constructor(ms: number | undefined, fire: () => void) {
    this.#left = ms;
    this.#fire = fire;
    this.resume();
  }

  hold(): void {
    if (this.#timer === undefined || this.#left === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#left = Math.max(0, this.#left - (performance.now() - this.#since));
  }

  resume(): void {
    if (this.#timer !== undefined || this.#left === undefined) return;
    this.#since = performance.now();
    this.#timer = setTimeout(this.#fire, this.#left);
  }

  clear(): void {
    clearTimeout(this.#timer);
    this.#left = undefined;
  }
}

/** One execution in flight: its output so far and how to finish it. */
interface Pending {
  readonly stdout: OutputBuffer;
  readonly stderr: OutputBuffer;
  readonly onStdout: ExecRequest["onStdout"];
  readonly onStderr: ((chunk: Buffer) => void) | undefined;
  /** the launcher's reading that came just before the next chunk of stdout (`--usage-frames`) */
  usage?: LiveUsage | undefined;
  readonly done: (statusLine: string | undefined) => void;
}

/**
 * One held container (`warren-launch --hold`): a scratch layer that lives
 * for a whole job, in which `exec` runs one program at a time. The holder
 * stays resident and serves each execution over its stdin and stdout
 * (docs/launcher.md, "Served execs"): the container's init forks the program,
 * so no process is spawned from here per execution. A program's misbehaviour
 * is a status in its ExecResult; only Warren's own failures throw
 * (SandboxError, InvalidRequestError, LauncherNotFoundError).
 */
export class Container {
  readonly #holder: LauncherProcess;
  readonly #cgroups: readonly string[];
  readonly #diagnostics: OutputBuffer;
  /** The execution being served; the holder serves one at a time. */
  #pending: Pending | undefined;
  /** Executions wait here for the one before them to end. */
  #turn: Promise<unknown> = Promise.resolve();
  /** Job files to write into the work dir with the next execution (attachFiles()). */
  #attached: Buffer | undefined;
  /** Exec requests written to the holder: the launcher counts them too, and a relayed signal names its execution by this count's parity. */
  #requests = 0;
  /** Requests with a program written to the holder (not `--unpack`'s). */
  #programs = 0;
  /** The execution running is the container's first with a program: it runs in the container's own cgroup, unless the container is a zygote host (docs/launcher.md, *The container's cgroup*). */
  #pendingInOwn = false;
  readonly #zygoteHost: boolean;
  /** The container's init, in our pid namespace. */
  readonly pid: number;
  /** Resolves once the holder has exited (the container is gone). */
  readonly closed: Promise<void>;

  private constructor(holder: LauncherProcess, pid: number, cgroups: readonly string[], diagnostics: OutputBuffer, zygoteHost: boolean) {
    this.#holder = holder;
    this.#zygoteHost = zygoteHost;
    this.pid = pid;
    this.#cgroups = cgroups;
    this.#diagnostics = diagnostics;
    const reader = new AnswerReader((type, data) => {
      const pending = this.#pending;
      if (pending === undefined) return;
      if (type === "o") {
        pending.stdout.push(data);
        const usage = pending.usage;
        pending.usage = undefined;
        pending.onStdout?.(data, usage);
      } else if (type === "u") {
        pending.usage = decodeUsage(data);
      } else if (type === "e") {
        pending.stderr.push(data);
        pending.onStderr?.(data);
      }
      else {
        this.#pending = undefined;
        pending.done(data.toString("utf8"));
      }
    });
    holder.stdout?.on("data", (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (error) {
        diagnostics.push(Buffer.from(`\n[warren] ${(error as Error).message}\n`));
        holder.kill("SIGKILL");
      }
    });
    // The holder gone mid-execution: that execution gets no status line.
    this.closed = waitForClose(holder).then(() => {
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.done(undefined);
    });
  }

  static async create(options: ContainerOptions): Promise<Container> {
    const launcher = options.launcher ?? requireLauncher();
    const files = encodeJobFiles(options.files ?? []); // a bad path fails before anything starts
    const args = holdArgs(
      {
        rootfs: options.rootfs,
        cgroups: options.cgroups,
        ...(options.binds === undefined ? {} : { binds: options.binds }),
        ...(options.scratchMb === undefined ? {} : { scratchMb: options.scratchMb }),
        ...(options.workdir === undefined ? {} : { workdir: options.workdir }),
        ...(options.hostname === undefined ? {} : { hostname: options.hostname }),
        ...(options.zygoteHost === true ? { zygoteHost: true } : {}),
        ...(options.bindProc === true ? { bindProc: true } : {}),
      },
      STATUS_FD,
    );
    // stdin carries the requests, and its EOF is how the holder learns to tear
    // the container down: even if this process dies, the container goes with it.
    const holder = spawnLauncher(launcher, args, { nodeSpawn: options.nodeSpawn === true });
    const diagnostics = new OutputBuffer(DIAGNOSTICS_CAP);
    // A LauncherProcess 'error' without a listener would crash the runner; the
    // failures that matter surface through waitForReady and `alive`.
    holder.on("error", (error) => diagnostics.push(Buffer.from(`\n[warren] ${error.message}\n`)));
    holder.stdin?.on("error", () => {}); // EPIPE once the holder is gone; its exit is what matters
    // (its stderr: the ready line and diagnostics, read by waitForReady, then diagnostics alone)
    const pid = await waitForReady(holder, diagnostics);
    const container = new Container(holder, pid, options.cgroups, diagnostics, options.zygoteHost === true);
    container.#attach(files);
    return container;
  }

  /** Whether the holder (and so the container) is still up. */
  get alive(): boolean {
    return isRunning(this.#holder);
  }

  /** Runs one program in the container and reports how it went. Calls are served one after another. */
  exec(request: ExecRequest): Promise<ExecResult> {
    const stdin = typeof request.stdin === "string" ? Buffer.from(request.stdin, "utf8") : (request.stdin ?? Buffer.alloc(0));
    return this.#execute(request, [], stdin, {});
  }

  /**
   * Starts one program whose stdin is a stream (`--stdin-stream`,
   * docs/launcher.md): written while it runs (ExecStream.write), ended by
   * ExecStream.end(). `request.stdin`, if any, is its first write. Every limit
   * and the accounting are exec()'s; its `signal` cancels it even while the
   * launcher is not reading its stdin (SIGUSR1). Served one after another
   * with exec() calls: writes wait until it has started.
   */
  start(request: ExecRequest): ExecStream {
    const holderIn = this.#holder.stdin;
    let sent!: () => void;
    const started = new Promise<void>((resolve) => {
      sent = resolve;
    });
    /** The ordinal of its request, once written. */
    let ordinal: number | undefined;
    let finished = false;
    let ended = false;
    let queued = 0;
    let paused = false;
    let deadline: Deadline | undefined;
    /** Writes not yet taken: resolved at the latest when the execution ends. */
    const waiting = new Set<() => void>();
    // counted from the call (writes made before the execution starts wait for it, and count too)
    const send = (parts: readonly Buffer[], bytes: number): Promise<void> => {
      queued += bytes;
      return new Promise<void>((resolve) => {
        const done = () => {
          if (!waiting.delete(done)) return;
          queued -= bytes;
          resolve();
        };
        waiting.add(done);
        void started.then(() => {
          if (finished || holderIn === null || !holderIn.writable) {
            done();
            return;
          }
          // the callback of the last part: handed to the launcher's pipe (or failed: the holder is gone, and the result says so)
          parts.forEach((part, i) => holderIn.write(part, i === parts.length - 1 ? done : undefined));
        });
      });
    };
    const stream: ExecStream = {
      write: (chunk) => {
        const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
        if (ended) return Promise.reject(new Error("The stream's stdin was ended: nothing can be written after end()."));
        if (finished) return Promise.resolve();
        if (queued > 0 && queued + bytes.length > STDIN_QUEUE_CAP) {
          return Promise.reject(new RangeError(`${queued + bytes.length} bytes of stdin would wait for the program; at most ${STDIN_QUEUE_CAP} may: await each write.`));
        }
        if (bytes.length === 0) return Promise.resolve();
        return send([encodeStdinHeader(bytes.length), bytes], bytes.length);
      },
      end: () => {
        if (ended || finished) return Promise.resolve();
        ended = true;
        return send([encodeStdinEnd()], 0);
      },
      pauseOutput: () => {
        if (finished || paused) return;
        paused = true;
        this.#holder.stdout?.pause();
        deadline?.hold();
      },
      resumeOutput: () => {
        if (!paused) return;
        paused = false;
        this.#holder.stdout?.resume();
        deadline?.resume();
      },
      signal: (name) => {
        const signo = Object.hasOwn(os.constants.signals, name) ? os.constants.signals[name as NodeJS.Signals] : undefined;
        if (signo === undefined || signo > RELAY_SIGNALS) throw new RangeError(`${name} is not a signal an execution can be sent: one of signals 1 to ${RELAY_SIGNALS} (SIGINT, SIGTERM, SIGKILL, …).`);
        if (finished) return;
        // after its request (the launcher drops a relayed signal of the execution before's parity, and keeps this one's until the program runs)
        void started.then(() => {
          const pid = this.#holder.pid;
          if (finished || ordinal === undefined || pid === undefined || !this.alive) return;
          try {
            process.kill(pid, relaySignal(ordinal, signo));
          } catch {
            // the holder is gone: the result says so
          }
        });
      },
      result: this.#execute(request, ["--stdin-stream"], Buffer.alloc(0), {
        streamed: true,
        onSent: (n) => {
          ordinal = n;
          sent();
        },
        onDeadline: (running) => {
          deadline = running;
          if (paused) running.hold();
        },
      }).finally(() => {
        finished = true;
        stream.resumeOutput();
        sent(); // a request that was never sent (the container is gone) holds no write back
        for (const done of [...waiting]) done();
      }),
    };
    const first = typeof request.stdin === "string" ? Buffer.from(request.stdin, "utf8") : request.stdin;
    if (first !== undefined && first.length > 0) void stream.write(first);
    return stream;
  }

  /** One execution: its request (the exec options FLAGS before the request's own, STDIN its stdin bytes), queued. */
  #execute(request: ExecRequest, flags: readonly string[], stdin: Buffer, how: ServeHow): Promise<ExecResult> {
    const args = [
      ...flags,
      ...(request.zygote === "start" ? ["--zygote"] : request.zygote === "child" ? ["--via-zygote"] : []),
      ...(request.usageFrames === true && this.#cgroups.length > 0 ? ["--usage-frames"] : []),
      ...execArgs({
        hasCgroups: this.#cgroups.length > 0,
        argv: request.argv,
        limits: request.limits,
        ...(request.env === undefined ? {} : { env: request.env }),
        ...(request.cwd === undefined ? {} : { cwd: request.cwd }),
      }),
    ];
    // Attached files travel in this request, ahead of its stdin, and are written before the program starts.
    const attached = this.#attached;
    this.#attached = undefined;
    const frame =
      attached === undefined ? encodeExecRequest(args, stdin) : encodeExecRequest(["--unpack-first", String(attached.length), ...args], Buffer.concat([attached, stdin]));
    const outputCap =
      request.limits.outputKb === undefined ? OUTPUT_HARD_CAP : Math.min(OUTPUT_HARD_CAP, request.limits.outputKb * 1024 + OUTPUT_SLACK);
    const keep = { cap: outputCap, ...(request.keepBytes === undefined ? {} : { shared: request.keepBytes }) };
    return this.#queued(frame, keep, request, { ...how, program: true }).then((result) => {
      if (attached !== undefined && result.status === "internal_error" && result.error?.step === "unpack") throw copyInFailed(result);
      return result;
    });
  }

  /**
   * What the execution running now has used so far — its CPU time, peak
   * memory and OOM kills, read from its cgroup as the launcher reads them for
   * its status line (docs/launcher.md) — or undefined when it cannot be read
   * (no cgroups, no execution running, or the files are not there). A live
   * reading for a caller that answers before the execution's end.
   * BESIDES: an execution cgroup left out (a name of occupiedExecutions():
   * a zygote's, which outlives its children); the one read is then the only
   * other that holds a process, looked for first above the number AFTER (the
   * last one read so: its `execution`).
   */
  async usage(besides?: string, after?: number): Promise<CgroupUsage | undefined> {
    const pid = this.#holder.pid;
    if (this.#cgroups.length === 0 || pid === undefined || this.#pending === undefined) return undefined;
    try {
      return await executionUsage(this.#cgroups, pid, besides === undefined ? { first: this.#pendingInOwn } : { besides, ...(after === undefined ? {} : { after }) });
    } catch {
      return undefined; // the execution ended and its cgroup went meanwhile
    }
  }

  /**
   * The names of the execution cgroups below the container's own (`e<n>`)
   * that hold a process now, the oldest first: a running execution's, a
   * program made ahead for the next (docs/launcher.md), a zygote's; none
   * without cgroups.
   */
  occupiedExecutions(): string[] {
    const pid = this.#holder.pid;
    if (this.#cgroups.length === 0 || pid === undefined) return [];
    return occupiedExecutions(this.#cgroups[0]!, pid);
  }

  /**
   * Attaches the job's files to the next exec(): they are written into the
   * work dir, inside the container and as the sandbox user, by that exec, in
   * the same request (`--unpack-first`, docs/launcher.md), so a job's files and its
   * first program reach the container in one round trip. A bad or clashing
   * path is refused here; a failed write fails that exec() with
   * copy_in_failed, and its program does not run.
   */
  attachFiles(files: readonly JobFile[]): void {
    this.#attach(encodeJobFiles(files));
  }

  #attach(stream: Buffer): void {
    if (stream.length === 0) return;
    this.#attached = this.#attached === undefined ? stream : Buffer.concat([this.#attached, stream]);
  }

  /**
   * Copies files into the work dir of the running container now, in a request
   * of their own (`--unpack`): written inside the container by its init, as
   * the sandbox user; a file that already exists is an error. A job's files
   * go with its first exec instead (attachFiles()).
   */
  async copyIn(files: readonly JobFile[]): Promise<void> {
    const stream = encodeJobFiles(files);
    if (stream.length === 0) return;
    const result = await this.#queued(encodeExecRequest(["--unpack"], stream), { cap: DIAGNOSTICS_CAP }, { limits: {} });
    if (result.status !== "ok") throw copyInFailed(result);
  }

  /** Serves FRAME once the requests before it are answered (the holder serves one at a time). */
  #queued(frame: Buffer, keep: KeepCaps, request: Pick<ExecRequest, "limits" | "signal" | "onStdout" | "onStderr">, how: ServeHow = {}): Promise<ExecResult> {
    const run = this.#turn.then(() => this.#serve(frame, keep, request, how));
    this.#turn = run.catch(() => {});
    return run;
  }

  /** Sends one request and waits for its answer. */
  async #serve(frame: Buffer, keep: KeepCaps, request: Pick<ExecRequest, "limits" | "signal" | "onStdout" | "onStderr">, how: ServeHow): Promise<ExecResult> {
    if (!this.alive) {
      throw new SandboxError("container_gone", `The container (init pid ${this.pid}) is gone: its launcher exited (${describeExit(this.#holder)}). ${this.#diagnosticsText()}`);
    }
    if (request.signal?.aborted === true) return cancelledResult();
    // Both streams draw on one allowance: keepBytes bounds what this execution makes Warren hold.
    const shared = keep.shared === undefined ? undefined : new ByteAllowance(keep.shared);
    const stdout = new OutputBuffer(keep.cap, shared);
    const stderr = new OutputBuffer(keep.cap, shared);
    const answered = new Promise<string | undefined>((resolve) => {
      this.#pending = { stdout, stderr, onStdout: request.onStdout, onStderr: request.onStderr, done: resolve };
    });
    // A cancel frame makes the holder kill the program's cgroup and clean up.
    // A streamed execution's frames may wait behind stdin the program does
    // not read: SIGUSR1 cancels it at once. The holder drops a SIGUSR1 that
    // is pending when a request starts (it was meant for an earlier one), so
    // one that beats this request's header there (the holder still ending the
    // execution before) is lost, and the frame may never be read: SIGUSR1 is
    // sent again every CANCEL_RESEND_MS until the answer comes. One that comes
    // after the answer is dropped by the next request, which is written only
    // once this answer has been read.
    let resend: NodeJS.Timeout | undefined;
    const cancel =
      how.streamed === true
        ? () => {
            this.#holder.kill("SIGUSR1");
            this.#holder.stdin?.write(encodeCancel());
            resend = setInterval(() => this.#holder.kill("SIGUSR1"), CANCEL_RESEND_MS);
          }
        : () => this.#holder.stdin?.write(encodeCancel());
    request.signal?.addEventListener("abort", cancel, { once: true });
    // The launcher runs a container's first program in the container's own cgroup, whatever comes after
    // it; a request it refuses before that (a bad option) leaves the next one first, which is then read as none (usage()).
    this.#pendingInOwn = how.program === true && this.#programs++ === 0 && !this.#zygoteHost;
    this.#holder.stdin?.write(frame);
    const ordinal = this.#requests++;
    how.onSent?.(ordinal);
    let deadlineHit = false;
    // The holder enforces wall time itself: one that does not answer is broken.
    // Time while the caller does not read the answer (ExecStream.pauseOutput) is not counted.
    const deadline = new Deadline(request.limits.wallTimeMs === undefined ? undefined : request.limits.wallTimeMs + DEADLINE_GRACE_MS, () => {
      deadlineHit = true;
      this.#holder.kill("SIGKILL");
    });
    how.onDeadline?.(deadline);
    const line = await answered;
    clearInterval(resend);
    deadline.clear();
    request.signal?.removeEventListener("abort", cancel);

    const base = { stdout: stdout.toBuffer(), stderr: stderr.toBuffer(), stdoutDropped: stdout.bytesDropped, stderrDropped: stderr.bytesDropped };
    const failed = (step: string, message: string, errno: number | null = null, what: Pick<ExecError, "path" | "interpreter" | "scratch"> = {}): ExecResult => ({
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
      cancelled: step === CANCELLED_STEP,
      error: { step, errno, message, ...what },
    });
    if (deadlineHit) {
      return failed("deadline", `warren-launch did not answer within the wall-time limit plus ${DEADLINE_GRACE_MS} ms; Warren killed the container.`);
    }
    const status = line === undefined ? undefined : parseStatusLine(line);
    if (status === undefined) {
      // The holder died (killed, crashed) before answering: its execution's
      // cgroups (named after its pid) would stay until the next start-up.
      if (this.#holder.pid !== undefined) await removeExecCgroups(this.#cgroups, this.#holder.pid);
      return failed("status", `warren-launch exited (${describeExit(this.#holder)}) without a valid status line. ${this.#diagnosticsText()}`.trim());
    }
    if (status.status === "internal_error") {
      const { path, interpreter, scratch } = status;
      return failed(status.step, status.message, status.errno, { ...(path === undefined ? {} : { path }), ...(interpreter === undefined ? {} : { interpreter }), ...(scratch === true ? { scratch } : {}) });
    }
    return {
      ...base,
      status: status.status,
      exitCode: status.exitCode,
      signal: signalName(status.signal),
      // The launcher caps both streams together; its stdoutTruncated and
      // stderrTruncated say which stream lost bytes at the cap.
      stdoutTruncated: stdout.overflowed || status.stdoutTruncated,
      stderrTruncated: stderr.overflowed || status.stderrTruncated,
      cpuTimeMs: status.cpuTimeMs,
      wallTimeMs: status.wallTimeMs,
      memoryKb: status.memoryKb,
      oomKilled: status.oomKilled,
      cancelled: false,
    };
  }

  /** Ends the container (every process in it) and waits for the holder. Idempotent. */
  async destroy(): Promise<void> {
    const holder = this.#holder;
    if (!isRunning(holder)) {
      await waitForClose(holder);
      return;
    }
    const closed = waitForClose(holder);
    // EOF ends the container; writes still buffered (a streamed execution's
    // stdin that its program does not read) would hold the EOF back: dropped
    if ((holder.stdin?.writableLength ?? 0) > 0) holder.stdin?.destroy();
    else holder.stdin?.end();
    const grace = setTimeout(() => holder.kill("SIGKILL"), 5_000);
    await closed;
    clearTimeout(grace);
  }

  #diagnosticsText(): string {
    const text = this.#diagnostics.toBuffer().toString("utf8").trim();
    return text === "" ? "" : `Its stderr: ${text}`;
  }
}

function copyInFailed(result: ExecResult): SandboxError {
  const why = result.error === undefined ? result.status : `step ${result.error.step} failed: ${result.error.message}`;
  return new SandboxError("copy_in_failed", `Could not copy the job's files into the container: ${why}`);
}

/** Waits for the holder's `{"ready":true,"pid":N}` line; throws SandboxError when it fails or is slow. */
function waitForReady(holder: LauncherProcess, diagnostics: OutputBuffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const stderr = holder.stderr;
    /** The start of a line not complete yet. */
    let partial = Buffer.alloc(0);
    let settled = false;
    /** Settles once; from then on all of stderr is diagnostics, starting with LEFT (what came after the status line). */
    const settle = (left: Buffer, outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      holder.off("exit", onExit);
      holder.off("error", onError);
      stderr?.off("data", onData);
      if (left.length > 0) diagnostics.push(left);
      stderr?.on("data", (chunk: Buffer) => diagnostics.push(chunk));
      outcome();
    };
    const failure = (message: string, details?: unknown) => () => {
      holder.kill("SIGKILL");
      const text = diagnostics.toBuffer().toString("utf8").trim();
      reject(new SandboxError("container_start_failed", text === "" ? message : `${message} Launcher stderr: ${text}`, details));
    };
    /** What a status line means (it starts with "{": the launcher's diagnostics never do). */
    const statusOf = (line: string): (() => void) => {
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        return failure(`The launcher wrote a status line that is not JSON: ${line.slice(0, 200)}`);
      }
      const pid = readyPid(json);
      if (pid !== undefined) return () => resolve(pid);
      const failed = parseStatusLine(line);
      if (failed?.status === "internal_error") {
        return failure(`The container could not be created: step ${failed.step} failed: ${failed.message}${failed.errno === null ? "" : ` (errno ${failed.errno})`}.`, failed);
      }
      return failure(`The launcher wrote an unexpected status line: ${line.slice(0, 200)}`);
    };
    function onData(chunk: Buffer): void {
      let text = partial.length === 0 ? chunk : Buffer.concat([partial, chunk]);
      for (let newline = text.indexOf(0x0a); newline >= 0; newline = text.indexOf(0x0a)) {
        const line = text.subarray(0, newline + 1);
        text = text.subarray(newline + 1);
        if (line[0] === 0x7b /* { */) {
          settle(text, statusOf(line.toString("utf8").trimEnd()));
          return;
        }
        diagnostics.push(line);
      }
      // a line this long is no status line of the launcher's: diagnostics (capped there)
      if (text.length > DIAGNOSTICS_CAP) {
        diagnostics.push(text);
        text = Buffer.alloc(0);
      }
      partial = Buffer.from(text);
    }
    const onExit = () => {
      // Let a final status line that raced with the exit be read first.
      setImmediate(() => settle(partial, failure(`The launcher exited (${describeExit(holder)}) before the container was ready.`)));
    };
    const onError = (error: Error) => settle(partial, failure(`Could not start the launcher: ${error.message}`));
    const timer = setTimeout(() => settle(partial, failure(`The container was not ready within ${START_TIMEOUT_MS} ms.`)), START_TIMEOUT_MS);
    stderr?.on("data", onData);
    holder.once("exit", onExit);
    holder.once("error", onError);
  });
}

function describeExit(child: LauncherProcess): string {
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

/** The result of an execution cancelled before it started (as the launcher reports one it cancels). */
function cancelledResult(): ExecResult {
  return notRunResult({ step: CANCELLED_STEP, errno: null, message: "The execution was cancelled." }, true);
}
