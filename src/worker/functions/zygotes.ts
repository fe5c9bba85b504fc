import { containerOptions } from "../../sandbox/container/container-options.js";
import type { FunctionVersion, InvocationEvent, InvocationOutcome } from "../../run/functions.js";
import { Container } from "../../sandbox/container/container.js";
import type { ExecResult } from "../../sandbox/container/exec-types.js";
import type { PreparedBudget } from "../../sandbox/container/prepared-budget.js";
import type { ImageLease } from "../../sandbox/images/store/lease.js";
import type { SandboxHost } from "../../sandbox/sandbox-host.js";
import { WarrenError } from "../../errors.js";
import { outcomeOf, respondedOutcome } from "./invocation.js";
import { invocationLimits, type FunctionPlan } from "./plan.js";
import { markPhase } from "../../telemetry/phase-timings.js";
import { eventHeader, parseShimResponse, SHIM_BIND, ShimChannelWatch, shimArgv, splitHandler, ZYGOTE_LIBRARY_BIND } from "./shim-protocol.js";
import type { CgroupUsage } from "../../sandbox/cgroup/tree.js";

/** The launcher's own wall limit on a child beyond the invocation's timeout (Warren's timer cancels it first). */
const CHILD_BACKSTOP_MS = 5_000;
/** An invocation this soon after its zygote's last one ended likely finds the next child still being made ahead (a few ms of set-up). */
const BACK_TO_BACK_MS = 10;
/** How long a zygote may take to import its handler, beyond the function's own wall limit. */
const START_GRACE_MS = 10_000;

/** What the runtime decides with after an invocation through a zygote. */
export type ZygoteAnswer =
  /** SETTLED: the child's execution has ended (true: the zygote is gone with it): the host is free again then, not before. */
  | { readonly kind: "answered"; readonly outcome: InvocationOutcome; readonly settled: Promise<boolean> }
  /** The child never ran the handler (the zygote is gone, or a child could not be set up here): the event was not consumed; run it another way. */
  | { readonly kind: "unserved"; readonly reason: string };

/**
 * A container holding one function version's zygote (docs/functions.md, "The
 * zygote"): the Python or Node.js shim that has imported the handler and forks each
 * invocation's process (libwarren-zygote.so). It serves one invocation at a
 * time; each is a new process in new namespaces, a new cgroup and a new
 * scratch, so nothing one invocation leaves reaches the next.
 */
export class ZygoteHost {
  readonly container: Container;
  readonly #lease: ImageLease | undefined;
  busy = false;
  /** When it was last given back free (performance.now()): its next child is made ahead from then on. */
  freedAt = 0;
  #destroyed: Promise<void> | undefined;

  /** The zygote's own execution cgroup (`e<n>`), beside which each child's is made. */
  readonly #zygoteCgroup: string | undefined;
  /** The number of the last child's execution cgroup read (the next child's is above it). */
  #lastChild: number | undefined;

  private constructor(container: Container, lease: ImageLease | undefined, zygoteCgroup: string | undefined) {
    this.container = container;
    this.#lease = lease;
    this.#zygoteCgroup = zygoteCgroup;
    this.#lastChild = zygoteCgroup === undefined ? undefined : Number(zygoteCgroup.slice(1));
  }

  /** Makes the container and starts the zygote; throws WarrenError when it cannot (its message says why). */
  static async start(host: SandboxHost, plan: FunctionPlan, fn: FunctionVersion): Promise<ZygoteHost> {
    const handler = fn.handler === null ? undefined : splitHandler(fn.handler);
    if (!hasZygote(plan) || handler === undefined) throw new RangeError("Only Python and Node.js handlers have a zygote.");
    const lease = plan.image.acquire?.();
    let container: Container | undefined;
    try {
      container = await Container.create({ ...containerOptions(host, plan.image, { scratchMb: plan.limits.diskMb, files: plan.files, extraBinds: [SHIM_BIND, ZYGOTE_LIBRARY_BIND] }), zygoteHost: true });
      const language = plan.language.id === "python" ? "python" : "javascript";
      const argv = shimArgv(language, plan.language.run[0] ?? (language === "python" ? "python3" : "node"), "zygote", handler, fn.name, fn.version ?? "", plan.limits.memoryMb);
      const started = await container.exec({ argv, env: plan.env, limits: invocationLimits(plan.limits, plan.limits.wallTimeMs + START_GRACE_MS), zygote: "start" });
      if (started.status !== "ok" || started.exitCode !== 0 || started.stdout.length > 0) throw new WarrenError("function_prepare_failed", `The function's zygote did not start: ${whyNotStarted(started)}`);
      // the zygote's own execution cgroup: the oldest that holds a process now (the next child's, made ahead, comes after it;
      // an earlier execution's, not yet removed, holds none)
      return new ZygoteHost(container, lease, container.occupiedExecutions()[0]);
    } catch (error) {
      await container?.destroy();
      lease?.release();
      throw error;
    }
  }

  /** Whether its container is up (the zygote itself may have ended: an invocation then comes back unserved). */
  get usable(): boolean {
    return this.#destroyed === undefined && this.container.alive;
  }

  /**
   * One invocation: a child of the zygote, its event streamed in, timed from
   * the delivery as a prepared container's is (Prepared.deliver).
   */
  async invoke(
    fn: FunctionVersion,
    plan: FunctionPlan,
    event: InvocationEvent,
    options: { readonly id: string; readonly logs: boolean; readonly signal?: AbortSignal; readonly logsCapBytes: number; readonly early?: boolean },
  ): Promise<ZygoteAnswer> {
    const cancel = new AbortController();
    const timeoutMs = fn.limits.wallTimeMs;
    const started = performance.now();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      cancel.abort();
    }, timeoutMs);
    const onAbort = () => cancel.abort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.signal?.aborted === true) onAbort();
    // Answered at the response (docs/functions.md, *Answering at the response*), read live from the
    // child's execution cgroup: at the response, the only one beside the zygote's that holds a
    // process (the last child's has ended, the next is made after this one's end). Found gone (the
    // child ended meanwhile), or a reading that cannot be the child's: the answer waits for the end.
    const zygoteCgroup = this.#zygoteCgroup;
    const channel = options.early === true && !options.logs && zygoteCgroup !== undefined ? new ShimChannelWatch(false) : undefined;
    // the launcher's reading of the child's own execution cgroup just before the latest chunk of its stdout, if it sent one
    let seen: CgroupUsage | undefined;
    // The event is whole before the child exists: it travels as the request's stdin, in the
    // same write as the request (one write to the launcher, and one wake-up of it, per invocation).
    const execution = this.container.exec({
      argv: ["zygote-child"],
      env: plan.env,
      limits: invocationLimits(plan.limits, timeoutMs + CHILD_BACKSTOP_MS),
      zygote: "child",
      signal: cancel.signal,
      stdin: Buffer.concat([eventHeader(options.id, event.contentType, timeoutMs), event.body]),
      ...(channel === undefined
        ? {}
        : {
            usageFrames: true,
            onStdout: (chunk: Buffer, usage?: CgroupUsage) => {
              seen = usage;
              channel.push(chunk);
            },
          }),
    });
    const ended = execution.finally(() => {
      clearTimeout(timer); // kept until the end: a child that answers and never ends is cut at the timeout
      options.signal?.removeEventListener("abort", onAbort);
      channel?.end();
      markPhase("worker", options.id, "child ended");
    });
    let respondedAt: number | undefined;
    const answer = await new Promise<{ result: ExecResult } | { response: Buffer; usage: CgroupUsage }>((resolve, reject) => {
      ended.then((result) => resolve({ result }), reject);
      void channel?.response.then(async (response) => {
        if (response === undefined || timedOut) return;
        respondedAt = performance.now();
        const usage = seen ?? (await this.container.usage(zygoteCgroup, this.#lastChild));
        if (usage?.execution !== undefined) this.#lastChild = Number(usage.execution.slice(1));
        markPhase("worker", options.id, "usage read");
        // (a child that ran its runtime has charged memory and CPU to its cgroup: none read is not its cgroup)
        if (usage !== undefined && usage.memoryKb > 0 && usage.cpuTimeMs > 0 && usage.oomKills === 0 && usage.cpuTimeMs <= plan.limits.cpuTimeMs) resolve({ response, usage });
      });
    });
    const how = { timedOut, cancelled: options.signal?.aborted === true, durationMs: (respondedAt ?? performance.now()) - started, cold: false, logs: options.logs, logsCapBytes: options.logsCapBytes, timeoutMs };
    if ("response" in answer) return { kind: "answered", outcome: respondedOutcome(answer.response, answer.usage, plan, how), settled: ended.then((result) => unserved(result) !== false, () => true) };
    const reason = unserved(answer.result);
    if (reason !== false) return { kind: "unserved", reason };
    return { kind: "answered", outcome: outcomeOf(answer.result, plan, how), settled: Promise.resolve(false) };
  }

  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      await this.container.destroy();
      this.#lease?.release();
    })();
    return this.#destroyed;
  }
}

/** Whether PLAN's invocations can be a zygote's children: a Python or a Node.js handler (docs/functions.md, "The zygote"). */
function hasZygote(plan: FunctionPlan): boolean {
  return plan.mode === "handler" && (plan.language.id === "python" || plan.language.id === "javascript");
}

/** Why an execution's child never ran the handler (a step of its set-up failed, not a cancel), or false. */
function unserved(result: ExecResult): string | false {
  const step = result.status === "internal_error" ? result.error?.step : undefined;
  return step !== undefined && step !== "cancelled" ? `step ${step} failed: ${result.error?.message ?? "unknown"}` : false;
}

function whyNotStarted(result: ExecResult): string {
  if (result.status === "internal_error") return `step ${result.error?.step ?? "?"} failed: ${result.error?.message ?? "unknown"}`;
  const response = parseShimResponse(result.stdout);
  if (response.kind === "load") return `${response.error.type}: ${response.error.message}`;
  if (response.kind === "warren") return response.message;
  return `${result.status}, exit code ${result.exitCode ?? "none"}, signal ${result.signal ?? "none"}: ${result.stderr.toString("utf8").slice(0, 500)}`;
}

export interface ZygotesOptions {
  /** Most zygote containers per function version (each serves one invocation at a time). */
  readonly maxPerVersion: number;
  /** A version not invoked for this long loses its zygotes. */
  readonly idleMs: number;
  /** Shared with the runs' pool and the warm containers: every zygote container holds a slot. */
  readonly budget: PreparedBudget;
  readonly onError: (error: unknown) => void;
  /** Whether Node.js handlers get zygotes too (Python's always do). */
  readonly node: boolean;
}

interface VersionZygotes {
  readonly fn: FunctionVersion;
  readonly plan: FunctionPlan;
  readonly hosts: ZygoteHost[];
  /** Invocations waiting for a host of this version to be free, first come first served. */
  readonly waiting: ((host: ZygoteHost | undefined) => void)[];
  starting: number;
  lastUsed: number;
  /** Starting one failed: this version's invocations go the other way until the zygotes are retired (a new deploy). */
  broken: boolean;
}

/**
 * Per Python or Node.js function version, containers holding its zygote (ZygoteHost).
 * An invocation takes a free one; when all are busy it waits for one (a
 * child takes a few milliseconds) while one more is started, up to
 * maxPerVersion. A version with none yet goes the other way (a prepared or
 * cold container) and gets its first zygote behind it. All of them, with the
 * runs' pool and the warm containers, stay within the host's budget.
 */
export class Zygotes {
  readonly #host: SandboxHost;
  readonly #options: ZygotesOptions;
  readonly #versions = new Map<string, VersionZygotes>();
  readonly #sweeper: NodeJS.Timeout;
  readonly #starting = new Set<Promise<unknown>>();
  /** Every host up, each holding a budget slot until released. */
  readonly #slots = new Set<ZygoteHost>();
  #closed = false;

  constructor(host: SandboxHost, options: ZygotesOptions) {
    this.#host = host;
    this.#options = options;
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(200, Math.min(options.idleMs, 10_000) / 2));
    this.#sweeper.unref();
  }

  /** Zygote containers up now, over every version. */
  get hosts(): number {
    let n = 0;
    for (const version of this.#versions.values()) n += version.hosts.length;
    return n;
  }

  /** Per version with zygotes free now: its function's name, number and how many (a hint for warm routing). */
  freeVersions(): { name: string; number: number; ready: number }[] {
    const out = [];
    for (const version of this.#versions.values()) {
      const free = version.hosts.filter((host) => !host.busy && host.usable).length;
      if (free > 0) out.push({ name: version.fn.name, number: version.fn.number, ready: free });
    }
    return out;
  }

  /** Whether PLAN's invocations are for zygotes here: a Python handler's, and a Node.js handler's when the option says so. */
  #hasZygote(plan: FunctionPlan): boolean {
    return hasZygote(plan) && (plan.language.id !== "javascript" || this.#options.node);
  }

  /** Whether FN's invocations are for zygotes (a Python or Node.js handler whose zygote has not failed to start): its warm containers are then not kept. */
  serves(fn: FunctionVersion, plan: FunctionPlan): boolean {
    if (this.#closed || this.#options.maxPerVersion === 0 || !this.#hasZygote(plan)) return false;
    return this.#versions.get(keyOf(fn))?.broken !== true;
  }

  /**
   * A zygote host of FN for one invocation (busy until given back), waiting
   * for one when FN has some and all are busy; undefined when FN has none
   * (one is started behind the invocation) or cannot have one.
   */
  async take(fn: FunctionVersion, plan: FunctionPlan, signal?: AbortSignal): Promise<ZygoteHost | undefined> {
    if (this.#closed || this.#options.maxPerVersion === 0 || !this.#hasZygote(plan)) return undefined;
    const version = this.#version(fn, plan);
    version.lastUsed = Date.now();
    if (version.broken) return undefined;
    // The free one given back longest ago: the launcher has its zygote make
    // the next child ahead as soon as an invocation ends, and the longer ago,
    // the likelier that child waits ready. An invocation right behind the
    // last (back to back) on a version with a single zygote would wait for
    // that child's set-up: a second zygote is started, and they alternate.
    let free: ZygoteHost | undefined;
    for (const host of version.hosts) if (!host.busy && host.usable && (free === undefined || host.freedAt < free.freedAt)) free = host;
    if (free !== undefined) {
      free.busy = true;
      if (version.hosts.length + version.starting < 2 && performance.now() - free.freedAt < BACK_TO_BACK_MS) this.#grow(version);
      return free;
    }
    this.#grow(version);
    if (version.hosts.length === 0) return undefined;
    return new Promise<ZygoteHost | undefined>((resolve) => {
      const onAbort = () => {
        const at = version.waiting.indexOf(wake);
        if (at >= 0) version.waiting.splice(at, 1);
        resolve(undefined);
      };
      const wake = (host: ZygoteHost | undefined) => {
        signal?.removeEventListener("abort", onAbort);
        resolve(host);
      };
      version.waiting.push(wake);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** HOST is done with its invocation: to the next waiting one, else free; a host that failed (GONE), or whose version was retired, is let go. */
  give(fn: FunctionVersion, host: ZygoteHost, gone = false): void {
    const version = this.#versions.get(keyOf(fn));
    if (gone || this.#closed || !host.usable || version === undefined || !version.hosts.includes(host)) {
      const replace = version !== undefined && version.hosts.includes(host);
      this.#remove(version, host);
      if (version === undefined) return;
      if (replace) this.#grow(version); // one died: another takes its place
      this.#wakeOne(version);
      return;
    }
    const next = version.waiting.shift();
    if (next !== undefined) next(host);
    else {
      host.busy = false;
      host.freedAt = performance.now();
    }
  }

  /** Drops the zygotes of function NAME (of version NUMBER only, when given). */
  async retire(name: string, number?: number): Promise<void> {
    const dropped: Promise<void>[] = [];
    for (const version of [...this.#versions.values()]) {
      if (version.fn.name !== name || (number !== undefined && version.fn.number !== number)) continue;
      dropped.push(this.#drop(version));
    }
    await Promise.all(dropped);
  }

  /** Lets every idle zygote go; a busy one goes when its invocation gives it back (the runtime waits for those), or at last here. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    await Promise.all([...this.#versions.values()].map((version) => this.#drop(version)));
    await Promise.all([...this.#starting]);
  }

  /** What close() left busy, let go once the invocations are over. */
  async closeRest(): Promise<void> {
    await Promise.all([...this.#slots].map((host) => this.#release(host)));
  }

  #version(fn: FunctionVersion, plan: FunctionPlan): VersionZygotes {
    const key = keyOf(fn);
    let version = this.#versions.get(key);
    // a function deleted and deployed again numbers its versions from 1 again: the same number, another deploy
    if (version !== undefined && (version.fn.digest !== fn.digest || version.fn.createdAt !== fn.createdAt)) {
      void this.#drop(version);
      version = undefined;
    }
    if (version === undefined) {
      version = { fn, plan, hosts: [], waiting: [], starting: 0, lastUsed: Date.now(), broken: false };
      this.#versions.set(key, version);
    }
    return version;
  }

  /** One more zygote for VERSION when it has fewer than its bound and the budget has room. */
  #grow(version: VersionZygotes): void {
    if (this.#closed || version.broken || version.hosts.length + version.starting >= this.#options.maxPerVersion) return;
    if (version.starting > 0 && version.starting >= version.waiting.length) return; // one on its way per waiting invocation at most
    if (!this.#options.budget.take()) return;
    version.starting++;
    const starting = ZygoteHost.start(this.#host, version.plan, version.fn).then(
      (host) => {
        version.starting--;
        this.#slots.add(host);
        if (this.#closed || this.#versions.get(keyOf(version.fn)) !== version) return this.#release(host);
        version.hosts.push(host);
        host.busy = true;
        this.give(version.fn, host);
        return undefined;
      },
      (error: unknown) => {
        version.starting--;
        this.#options.budget.give();
        version.broken = true; // its invocations go the other way; a new deploy tries again
        for (const wake of version.waiting.splice(0)) wake(undefined);
        this.#options.onError(error);
      },
    );
    this.#starting.add(starting);
    void starting.finally(() => this.#starting.delete(starting));
  }

  #wakeOne(version: VersionZygotes): void {
    const free = version.hosts.find((host) => !host.busy && host.usable);
    const next = free === undefined ? undefined : version.waiting.shift();
    if (free !== undefined && next !== undefined) {
      free.busy = true;
      next(free);
    } else if (version.waiting.length > 0) {
      this.#grow(version);
      if (version.hosts.length + version.starting === 0) for (const wake of version.waiting.splice(0)) wake(undefined);
    }
  }

  #remove(version: VersionZygotes | undefined, host: ZygoteHost): void {
    const at = version?.hosts.indexOf(host) ?? -1;
    if (at >= 0) version!.hosts.splice(at, 1);
    void this.#release(host);
  }

  /** HOST destroyed and its budget slot given back, once. */
  #release(host: ZygoteHost): Promise<void> {
    if (this.#slots.delete(host)) this.#options.budget.give();
    return host.destroy();
  }

  /** VERSION forgotten: its idle hosts let go now, its busy ones when their invocation gives them back (it finishes on its version). */
  #drop(version: VersionZygotes): Promise<void> {
    if (this.#versions.get(keyOf(version.fn)) === version) this.#versions.delete(keyOf(version.fn));
    for (const wake of version.waiting.splice(0)) wake(undefined);
    const idle = version.hosts.filter((host) => !host.busy);
    version.hosts.splice(0);
    return Promise.all(idle.map((host) => this.#release(host))).then(() => {});
  }

  #sweep(): void {
    const now = Date.now();
    for (const version of [...this.#versions.values()]) {
      if (now - version.lastUsed >= this.#options.idleMs && version.waiting.length === 0 && version.hosts.every((host) => !host.busy)) {
        void this.#drop(version);
        continue;
      }
      for (const host of version.hosts.filter((h) => !h.busy && !h.usable)) this.#remove(version, host);
    }
  }
}

function keyOf(fn: FunctionVersion): string {
  return `${fn.name}\u0000${fn.number}`;
}
