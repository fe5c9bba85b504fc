import { containerOptions } from "../../sandbox/container/container-options.js";
import { WarrenError } from "../../errors.js";
import type { FunctionVersion, InvocationEvent, InvocationOutcome } from "../../run/functions.js";
import { Container, type ExecStream } from "../../sandbox/container/container.js";
import type { ExecResult } from "../../sandbox/container/exec-types.js";
import type { ImageLease } from "../../sandbox/images/store/lease.js";
import type { SandboxHost } from "../../sandbox/sandbox-host.js";
import type { CgroupUsage } from "../../sandbox/cgroup/tree.js";
import { invocationLimits, type FunctionPlan } from "./plan.js";
import { markPhase } from "../../telemetry/phase-timings.js";
import { eventHeader, parseShimResponse, SHIM_BIND, ShimChannelWatch, type ShimResponse } from "./shim-protocol.js";

/** The largest piece of an event written at once (a streamed execution holds at most 1 MiB waiting). */
const EVENT_PIECE = 256 * 1024;
/** What chmod may take, making a build's files executable. */
const CHMOD_LIMITS = { wallTimeMs: 10_000, cpuTimeMs: 5_000, memoryMb: 64, processes: 8, outputKb: 64 };

/**
 * A container in which a function's runtime has started, importing its
 * handler and then blocked reading its event: made for one invocation, then
 * destroyed. It is ready (`whenReady`) once the import has ended (the shim's
 * ready line; a process of mode `process` has no import: at once). The
 * launcher's own wall limit on it (`backstopMs`) is only a backstop: the invocation's timeout is counted by deliver() from the
 * event's delivery, and a prepared container is retired before that limit.
 */
export class Prepared {
  readonly container: Container;
  readonly stream: ExecStream;
  readonly #cancel: AbortController;
  readonly #lease: ImageLease | undefined;
  /** Its response channel, read as it comes. */
  readonly #channel: ShimChannelWatch | undefined;
  /** The launcher's reading of its execution's cgroup just before the latest chunk of stdout, if it sent one (`usageFrames`). */
  readonly #seen: { usage?: CgroupUsage | undefined };
  readonly madeAt = performance.now();
  /** Settles true once its import has ended, false when its program ends (or answers something else) before. */
  readonly whenReady: Promise<boolean>;
  #ended = false;
  #destroyed: Promise<void> | undefined;

  private constructor(container: Container, stream: ExecStream, cancel: AbortController, lease: ImageLease | undefined, channel: ShimChannelWatch | undefined, seen: { usage?: CgroupUsage | undefined }) {
    this.container = container;
    this.#seen = seen;
    this.stream = stream;
    this.#cancel = cancel;
    this.#lease = lease;
    this.#channel = channel;
    this.whenReady = channel?.ready ?? Promise.resolve(true);
    const ended = () => {
      this.#ended = true;
      channel?.end();
    };
    void stream.result.then(ended, ended);
  }

  /**
   * Makes a container for PLAN and starts its program, waiting for stdin.
   * With `fromPool`, the container is the runs' pool's when it has one ready
   * (a cold invocation: a container of the same image and size, made
   * ahead, with the shims bound). Throws WarrenError when Warren cannot.
   */
  static async make(host: SandboxHost, plan: FunctionPlan, backstopMs: number, fromPool = false): Promise<Prepared> {
    const lease = plan.image.acquire?.();
    let container: Container | undefined;
    const create = fromPool && host.pool !== undefined ? host.pool.acquire.bind(host.pool) : Container.create;
    try {
      container = await create(containerOptions(host, plan.image, { scratchMb: plan.limits.diskMb, files: plan.files, extraBinds: [SHIM_BIND] }));
      if (plan.executables.length > 0) {
        // the build's files are written with the first exec, this one
        const made = await container.exec({ argv: ["chmod", "+x", "--", ...plan.executables], env: plan.env, limits: CHMOD_LIMITS });
        if (made.status !== "ok") throw new WarrenError("function_prepare_failed", `Could not make the build's files executable: ${made.error?.message ?? made.stderr.toString("utf8").slice(0, 500)}`);
      }
      const cancel = new AbortController();
      const channel = plan.mode === "handler" ? new ShimChannelWatch() : undefined;
      const seen: { usage?: CgroupUsage | undefined } = {};
      // the launcher's reading of the cgroup just before the chunk that completes a response: no file read here then
      const onStdout =
        channel === undefined
          ? {}
          : {
              usageFrames: true,
              onStdout: (chunk: Buffer, usage?: CgroupUsage) => {
                seen.usage = usage;
                channel.push(chunk);
              },
            };
      const stream = container.start({ argv: plan.argv, env: plan.env, limits: invocationLimits(plan.limits, backstopMs), signal: cancel.signal, ...onStdout });
      return new Prepared(container, stream, cancel, lease, channel, seen);
    } catch (error) {
      await container?.destroy();
      lease?.release();
      throw error;
    }
  }

  /** Still waiting for an event: its program has not ended (a handler whose import failed has) and its container is up. */
  get usable(): boolean {
    return !this.#ended && this.#destroyed === undefined && this.container.alive;
  }

  /** Why its program ended before it was ready, once it has: the import's error, or how the program ended. */
  async unreadyReason(): Promise<string> {
    let result: ExecResult;
    try {
      result = await this.stream.result;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
    const response = parseShimResponse(result.stdout);
    if (response.kind === "load") return `${response.error.type}: ${response.error.message}`;
    if (response.kind === "warren") return `the shim failed: ${response.message}`;
    return `its program ended before its import did (status ${result.status}, exit code ${result.exitCode ?? "none"}, signal ${result.signal ?? "none"}${result.error === undefined ? "" : `, ${result.error.message}`})`;
  }

  /** Ends the container and releases the image. Idempotent. */
  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      this.#cancel.abort();
      await this.container.destroy();
      this.#lease?.release();
    })();
    return this.#destroyed;
  }

  /**
   * Streams EVENT in and waits for the program's answer, or for the
   * timeout (`fn.limits.wallTimeMs`, from now: the delivery) or SIGNAL,
   * which cancel it. The container is not destroyed here.
   *
   * With `early`, a handler's outcome is answered as soon as its response is
   * complete (the shim's header says the body's length), with the CPU time
   * and peak memory its cgroup has charged by then (Container.usage): the
   * program's exit and the launcher's status line come after, and nothing
   * waits for them. It waits for them when the logs are wanted (stderr may
   * still be on its way), when the reading cannot be had, or when it shows a
   * limit reached (an OOM kill, the CPU time): the status line decides then.
   */
  async deliver(
    fn: FunctionVersion,
    plan: FunctionPlan,
    event: InvocationEvent,
    options: { readonly id: string; readonly logs: boolean; readonly signal?: AbortSignal; readonly cold: boolean; readonly logsCapBytes: number; readonly early: boolean },
  ): Promise<InvocationOutcome> {
    const started = performance.now();
    /** When the response was complete: the invocation's duration ends there, however long the exit takes. */
    let respondedAt: number | undefined;
    const timeoutMs = fn.limits.wallTimeMs;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.#cancel.abort();
    }, timeoutMs);
    const onAbort = () => this.#cancel.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted === true) onAbort();
    const feed = (async () => {
      let body = event.body;
      if (plan.mode === "handler") {
        const header = eventHeader(options.id, event.contentType, timeoutMs);
        // a small event goes in one frame with its header; a large one is not copied
        const small = body.length <= EVENT_PIECE;
        await this.stream.write(small ? Buffer.concat([header, body]) : header);
        if (small) body = Buffer.alloc(0);
      }
      for (let at = 0; at < body.length; at += EVENT_PIECE) await this.stream.write(body.subarray(at, at + EVENT_PIECE));
      await this.stream.end();
      markPhase("worker", options.id, "event written");
    })();
    feed.catch(() => {}); // a write refused once the program has ended: its result says how it went
    const channel = this.#channel;
    const responded = channel?.response.then((bytes) => {
      if (bytes === undefined || timedOut) return undefined;
      // The duration ends here. The timer does not: a program that then never ends (a handler that
      // replaced the shim's exit, say) is still cut at the timeout when its end is waited for.
      respondedAt = performance.now();
      markPhase("worker", options.id, "responded");
      return bytes;
    });
    let answer: { result: ExecResult } | { response: Buffer; usage: CgroupUsage };
    try {
      answer = await new Promise((resolve, reject) => {
        this.stream.result.then((result) => resolve({ result }), reject);
        if (!options.early || options.logs || responded === undefined) return;
        void responded.then(async (response) => {
          if (response === undefined) return;
          // the launcher's reading just before the chunk that completed the response; without it, the cgroup's files now
          const usage = this.#seen.usage ?? (await this.container.usage());
          markPhase("worker", options.id, "usage read");
          if (usage !== undefined && usage.oomKills === 0 && usage.cpuTimeMs <= plan.limits.cpuTimeMs) resolve({ response, usage });
        });
      });
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
    }
    const durationMs = (respondedAt ?? performance.now()) - started;
    const how = { timedOut, cancelled: options.signal?.aborted === true, durationMs, cold: options.cold, logs: options.logs, logsCapBytes: options.logsCapBytes, timeoutMs };
    if ("result" in answer) return outcomeOf(answer.result, plan, how);
    return respondedOutcome(answer.response, answer.usage, plan, how);
  }
}

/** How an invocation answered at its response went: the complete RESPONSE, and USAGE read live from its cgroup then. */
export function respondedOutcome(response: Buffer, usage: CgroupUsage, plan: FunctionPlan, how: Settled): InvocationOutcome {
  const parsed = parseShimResponse(response);
  const accounted = { ...baseOutcome(how), cpuTimeMs: usage.cpuTimeMs, memoryKb: usage.memoryKb };
  // (a complete response always has a header: never "none")
  return shimOutcome(parsed.kind === "none" ? { kind: "warren", message: "the shim's response is empty" } : parsed, plan, accounted);
}

export interface Settled {
  readonly timedOut: boolean;
  readonly cancelled: boolean;
  readonly durationMs: number;
  readonly cold: boolean;
  readonly logs: boolean;
  readonly logsCapBytes: number;
  readonly timeoutMs: number;
}

/** How an invocation ended, from its execution's result (docs/functions.md, "Statuses"). */
export function outcomeOf(result: ExecResult, plan: FunctionPlan, how: Settled): InvocationOutcome {
  const base = {
    ...baseOutcome(how),
    cpuTimeMs: result.cpuTimeMs,
    memoryKb: result.memoryKb,
    ...(how.logs ? { logs: logsOf(result, plan, how.logsCapBytes) } : {}),
  };
  if (how.timedOut) {
    return { ...base, status: "function_timeout", error: { code: "function_timeout", message: `The function did not answer within its timeout of ${how.timeoutMs} ms.` } };
  }
  if (how.cancelled) return { ...base, status: "failed", error: { code: "cancelled", message: "The invocation was cancelled." } };
  // V8 stops at its heap limit (sized to the memory limit) when it gets there before the cgroup does
  const heapExhausted = plan.language.id === "javascript" && result.signal !== null && result.stderr.includes("JavaScript heap out of memory");
  if (result.status === "memory_limit_exceeded" || result.oomKilled || heapExhausted) {
    return { ...base, status: "function_memory_exceeded", error: { code: "function_memory_exceeded", message: `The function ran out of memory (its limit is ${plan.limits.memoryMb} MiB).` } };
  }
  if (result.status === "time_limit_exceeded") {
    return { ...base, status: "function_timeout", error: { code: "function_timeout", message: `The function used up its CPU time (${plan.limits.cpuTimeMs} ms, its start-up included) or its container's wall limit.` } };
  }
  if (result.status === "internal_error") {
    const error = result.error;
    return { ...base, status: "failed", error: { code: "sandbox_error", message: `Warren could not run the invocation: ${error === undefined ? "unknown" : `step ${error.step} failed: ${error.message}`}` } };
  }
  if (result.status === "output_limit_exceeded") {
    return { ...base, status: "function_error", error: { type: "OutputLimitExceeded", message: `The response and logs together went over the function's output limit (${plan.limits.outputKb} KiB).`, stack: null } };
  }
  if (plan.mode === "process") {
    if (result.status === "ok") return { ...base, status: "ok", body: result.stdout, contentType: "application/octet-stream" };
    return { ...base, status: "function_error", error: exitError(result) };
  }
  const response = parseShimResponse(result.stdout);
  if (response.kind === "none") return { ...base, status: "function_error", error: exitError(result) };
  return shimOutcome(response, plan, base);
}

type OutcomeBase = Pick<InvocationOutcome, "body" | "contentType" | "durationMs" | "cpuTimeMs" | "memoryKb" | "cold" | "logs">;

/** What every outcome has, but its accounting. */
function baseOutcome(how: Settled): Omit<OutcomeBase, "cpuTimeMs" | "memoryKb" | "logs"> {
  return { body: Buffer.alloc(0), contentType: "application/json", durationMs: Math.round(how.durationMs * 100) / 100, cold: how.cold };
}

/** The outcome a shim's RESPONSE says. */
function shimOutcome(response: Exclude<ShimResponse, { kind: "none" }>, plan: FunctionPlan, base: OutcomeBase): InvocationOutcome {
  switch (response.kind) {
    case "ok":
      return { ...base, ...handlerTime(response.handlerMs, base.durationMs), status: "ok", body: response.body, contentType: response.contentType };
    case "error":
      return { ...base, ...handlerTime(response.handlerMs, base.durationMs), status: "function_error", error: response.error };
    case "load":
      return { ...base, status: "function_error", error: { ...response.error, message: `Loading the handler failed: ${response.error.message}` } };
    case "warren":
      return { ...base, status: "failed", error: { code: "shim_failed", message: `Warren's ${plan.language.id} shim failed: ${response.message}` } };
  }
}

/**
 * The handler's own time as its shim said it, never more than the
 * invocation's duration: the shim shares its process with the handler, which
 * could write a header of its own.
 */
function handlerTime(handlerMs: number | undefined, durationMs: number): { handlerMs?: number } {
  return handlerMs === undefined ? {} : { handlerMs: Math.min(handlerMs, durationMs) };
}

/** A process that ended without an answer (mode process: with a failure status). */
function exitError(result: ExecResult): { type: string; message: string; stack: null } {
  if (result.signal !== null) return { type: "Signal", message: `The function's process was killed by ${result.signal} before it answered.`, stack: null };
  return { type: "ExitCode", message: `The function's process exited with code ${result.exitCode ?? "?"} before it answered.`, stack: null };
}

/** The invocation's logs: stderr (where a handler's stdout goes too) and, in mode process, nothing of stdout (the response). */
function logsOf(result: ExecResult, plan: FunctionPlan, cap: number): NonNullable<InvocationOutcome["logs"]> {
  void plan;
  const stderr = result.stderr.subarray(0, cap);
  return { stdout: "", stderr: stderr.toString("utf8"), truncated: result.stderr.length > cap || result.stderrTruncated };
}
