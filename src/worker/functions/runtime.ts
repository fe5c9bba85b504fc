import { containerOptions } from "../../sandbox/container/container-options.js";
import { WarrenError } from "../../errors.js";
import type { BuildOutcome, FunctionFile, FunctionRuntime, FunctionSource, FunctionVersion, InvocationEvent, InvocationOutcome } from "../../run/functions.js";
import { Container } from "../../sandbox/container/container.js";
import type { SandboxHost } from "../../sandbox/sandbox-host.js";
import { expandCommand } from "../../sandbox/images/languages.js";
import { execLimits } from "../stage-exec.js";
import { builtFiles, untar } from "./build-files.js";
import { Prepared } from "./invocation.js";
import { planFunction, resolveLanguage, type FunctionPlan } from "./plan.js";
import { parseShimResponse, SHIM_BIND, SHIM_DIR } from "./shim-protocol.js";
import { assertSandboxCanReach } from "../../sandbox/sandbox-reach.js";
import { WarmPools } from "./warm-pool.js";
import { PreparedBudget } from "../../sandbox/container/prepared-budget.js";
import { Zygotes } from "./zygotes.js";
import { markPhase } from "../../telemetry/phase-timings.js";

/** How long a prepared container may wait for its event before it is replaced: the launcher's own wall limit on it is this plus the timeout. */
const PREPARED_MAX_AGE_MS = 5 * 60_000;
/** What `build` keeps of a compiler's or an import's output. */
const BUILD_OUTPUT_CAP = 64 * 1024;
/** The largest build (the archive of what the compile stage made) Warren stores. */
const BUILD_MAX_KB = 64 * 1024;

export interface FunctionRuntimeOptions {
  /** What an invocation's `logs` keep of its stderr. @defaultValue 64 KiB */
  readonly logsCapBytes?: number;
  /** Most prepared (warm) containers per function version; 0: every invocation is cold. @defaultValue 4 */
  readonly maxWarmPerVersion?: number;
  /** A version not invoked for this long loses its prepared containers. @defaultValue 60 s */
  readonly idleMs?: number;
  /** A prepared container older than this is replaced. @defaultValue 5 min */
  readonly maxAgeMs?: number;
  /**
   * The bound on every container made ahead: the host's (shared with the
   * runs' pool, SandboxHost.pool.budget) when it has a pool, else one of 16.
   */
  readonly budget?: PreparedBudget;
  /**
   * Answer a handler's invocation once its response is complete, with the
   * accounting its cgroup has by then, instead of after its program's exit
   * and the launcher's status line (docs/functions.md, *Answering at the
   * response*). @defaultValue true
   */
  readonly answerAtResponse?: boolean;
  /** Called when preparing a warm container or a zygote fails (the invocations go on another way). */
  readonly onError?: (error: unknown) => void;
  /**
   * Most zygotes per Python or Node.js function version (docs/functions.md, "The
   * zygote"; each serves one invocation at a time); 0: no zygote, every
   * invocation gets a container of its own. @defaultValue 4
   */
  readonly maxZygotesPerVersion?: number;
  /**
   * Whether Node.js handlers get zygotes too (docs/functions.md, "A Node.js
   * zygote"): never cold once a version has one, and a higher sustained
   * rate, but each child is forked after its event comes, where a ready
   * prepared container answers sooner. @defaultValue false
   */
  readonly nodeZygotes?: boolean;
}

/** Creates the worker's FunctionRuntime on HOST (src/run/functions.ts; docs/functions.md). */
export function createFunctionRuntime(host: SandboxHost, options: FunctionRuntimeOptions = {}): SandboxFunctionRuntime {
  assertSandboxCanReach(SHIM_DIR); // the shims are bound into every function container: say so now, not at each invocation
  // a zygote's children each mount a procfs of their own, which a bound /proc means cannot be had (docs/launcher.md, *Inside a container*)
  return new SandboxFunctionRuntime(host, host.bindProc === true ? { ...options, maxZygotesPerVersion: 0 } : options);
}

/** The FunctionRuntime of src/run/functions.ts, on a SandboxHost, with its warm containers. */
export class SandboxFunctionRuntime implements FunctionRuntime {
  readonly #host: SandboxHost;
  readonly #logsCapBytes: number;
  /** Prepared containers handed to an invocation and not yet destroyed (close() waits for them). */
  readonly #inFlight = new Set<Promise<void>>();
  readonly #warm: WarmPools;
  readonly #zygotes: Zygotes;
  readonly #onError: (error: unknown) => void;
  readonly #maxAgeMs: number;
  readonly #answerAtResponse: boolean;

  constructor(host: SandboxHost, options: FunctionRuntimeOptions) {
    this.#answerAtResponse = options.answerAtResponse ?? true;
    this.#host = host;
    this.#logsCapBytes = options.logsCapBytes ?? 64 * 1024;
    this.#maxAgeMs = options.maxAgeMs ?? PREPARED_MAX_AGE_MS;
    this.#onError = options.onError ?? (() => {});
    const budget = options.budget ?? host.pool?.budget ?? new PreparedBudget(16);
    this.#warm = new WarmPools(host, {
      maxPerVersion: options.maxWarmPerVersion ?? 4,
      idleMs: options.idleMs ?? 60_000,
      maxAgeMs: this.#maxAgeMs,
      budget,
      onError: this.#onError,
    });
    this.#zygotes = new Zygotes(host, { maxPerVersion: options.maxZygotesPerVersion ?? 4, idleMs: options.idleMs ?? 60_000, budget, onError: this.#onError, node: options.nodeZygotes === true });
  }

  /** Zygote containers up now, over every version. */
  get zygotes(): number {
    return this.#zygotes.hosts;
  }

  /** Prepared containers waiting for an event now, their import ended (warm), over every version. */
  get warm(): number {
    return this.#warm.ready;
  }

  /**
   * The versions with warm capacity here now, and how much (a distributed
   * worker advertises them: warm routing): prepared containers waiting, and
   * zygotes free to fork an invocation's child.
   */
  warmVersions(): { name: string; number: number; ready: number }[] {
    const byVersion = new Map<string, { name: string; number: number; ready: number }>();
    for (const v of [...this.#warm.readyVersions(), ...this.#zygotes.freeVersions()]) {
      const key = `${v.name}\u0000${v.number}`;
      const known = byVersion.get(key);
      if (known === undefined) byVersion.set(key, { ...v });
      else known.ready += v.ready;
    }
    return [...byVersion.values()];
  }

  /** Containers being prepared now: being made, or importing their handler. */
  get preparing(): number {
    return this.#warm.preparing;
  }

  async build(source: FunctionSource, signal?: AbortSignal): Promise<BuildOutcome> {
    const { image, language } = resolveLanguage(this.#host, source);
    let build: FunctionFile[] | null = null;
    if (language.compile !== null) {
      const compiled = await this.#compile(source, signal);
      if (!compiled.ok) return compiled;
      build = compiled.build;
    }
    if (source.mode === "process") return { ok: true, build };
    // A trial load: the shim imports the module and looks the function up, then stops.
    const plan = planFunction(this.#host, { ...source, build, version: "trial" }, "check");
    const lease = image.acquire?.();
    let container: Container;
    try {
      container = await this.#container(plan, source.files);
    } catch (error) {
      lease?.release();
      throw error;
    }
    try {
      const result = await container.exec({ argv: plan.argv, env: plan.env, limits: execLimits(source.limits), ...(signal === undefined ? {} : { signal }) });
      const output = result.stderr.subarray(0, BUILD_OUTPUT_CAP).toString("utf8");
      if (result.status === "internal_error") throw new WarrenError("function_build_failed", `Warren could not trial-load the function: ${result.error?.message ?? "unknown"}`);
      if (result.status === "memory_limit_exceeded" || result.status === "time_limit_exceeded") {
        return { ok: false, stage: "load", message: `Importing the handler went over the function's limits (${result.status}).`, output };
      }
      const response = parseShimResponse(result.stdout);
      switch (response.kind) {
        case "ok":
          return { ok: true, build };
        case "load":
          return { ok: false, stage: "load", message: `${response.error.type}: ${response.error.message}`, output: response.error.stack === null ? output : `${output}${response.error.stack}` };
        case "warren":
          throw new WarrenError("function_build_failed", `Warren's ${language.id} shim failed: ${response.message}`);
        default:
          return { ok: false, stage: "load", message: `The handler's import ended the process (exit code ${result.exitCode ?? "none"}, signal ${result.signal ?? "none"}).`, output };
      }
    } finally {
      await container.destroy();
      lease?.release();
    }
  }

  async invoke(fn: FunctionVersion, event: InvocationEvent, options: { readonly id: string; readonly logs: boolean; readonly signal?: AbortSignal }): Promise<InvocationOutcome> {
    let plan: FunctionPlan;
    try {
      plan = planFunction(this.#host, fn);
    } catch (error) {
      // its image removed since the deploy, say: Warren cannot run it, the function is not at fault
      if (!(error instanceof WarrenError)) throw error;
      return failedOutcome(error, true);
    }
    // A Python or Node.js handler's invocation is a child of its version's zygote when it has one (none yet: it goes cold, and one is started behind it)
    const zygote = await this.#zygotes.take(fn, plan, options.signal);
    if (zygote !== undefined) {
      markPhase("worker", options.id, "zygote taken");
      const answer = await zygote.invoke(fn, plan, event, { ...options, logsCapBytes: this.#logsCapBytes, early: this.#answerAtResponse }).catch((error: unknown) => {
        this.#zygotes.give(fn, zygote, true);
        throw error;
      });
      if (answer.kind === "answered") {
        // free again once its child's execution has ended (an answer at the response comes before)
        void answer.settled.then((gone) => this.#zygotes.give(fn, zygote, gone));
        return answer.outcome;
      }
      this.#zygotes.give(fn, zygote, true);
      // the handler never ran: the event goes the other way
      this.#onError(new WarrenError("function_prepare_failed", `A zygote of ${fn.name} could not serve an invocation (${answer.reason}); it was replaced.`));
    }
    const taken = this.#zygotes.serves(fn, plan) ? undefined : this.#warm.take(fn, plan);
    let prepared = taken?.prepared;
    const cold = taken?.cold ?? true;
    if (prepared === undefined) {
      try {
        prepared = await Prepared.make(this.#host, plan, this.#maxAgeMs + fn.limits.wallTimeMs, true);
      } catch (error) {
        if (!(error instanceof WarrenError)) throw error;
        return failedOutcome(error, true);
      }
    }
    markPhase("worker", options.id, cold ? "cold container" : "warm container taken");
    try {
      return await prepared.deliver(fn, plan, event, { ...options, cold, logsCapBytes: this.#logsCapBytes, early: this.#answerAtResponse });
    } finally {
      // Never reused: whatever the invocation left (globals, files, processes) goes with its container. Both the
      // teardown and the refill (a container's start: some 1.6 ms of this process's own time, spawning its launcher)
      // wait for the next turn of the event loop: the answer is stored and announced (embedded: sent) in this one.
      const used = prepared;
      this.#track(
        nextTurn().then(() => {
          const destroyed = used.destroy();
          this.#warm.refill(fn);
          return destroyed;
        }),
      );
    }
  }

  async retire(name: string, number?: number): Promise<void> {
    await Promise.all([this.#warm.retire(name, number), this.#zygotes.retire(name, number)]);
  }

  async close(): Promise<void> {
    await Promise.all([this.#warm.close(), this.#zygotes.close()]);
    await Promise.all([...this.#inFlight]);
    await this.#zygotes.closeRest();
  }

  #track(done: Promise<void>): void {
    const tracked = done.catch(() => {}).finally(() => this.#inFlight.delete(tracked));
    this.#inFlight.add(tracked);
  }

  /** A fresh container for a build step, with FILES in its work dir. */
  #container(plan: Pick<FunctionPlan, "image" | "limits">, files: readonly FunctionFile[], scratchMb = plan.limits.diskMb): Promise<Container> {
    return Container.create(containerOptions(this.#host, plan.image, { scratchMb, files, extraBinds: [SHIM_BIND] }));
  }

  /** Compiles SOURCE in a fresh container and takes out what the compiler made: the build. */
  async #compile(source: FunctionSource, signal?: AbortSignal): Promise<{ ok: true; build: FunctionFile[] } | Extract<BuildOutcome, { ok: false }>> {
    const { image, language } = resolveLanguage(this.#host, source);
    if (language.compile === null) throw new RangeError(`${language.id} has no compile stage.`);
    const lease = image.acquire?.();
    const container = await this.#container({ image, limits: source.compileLimits }, source.files, Math.max(source.compileLimits.diskMb, source.limits.diskMb));
    try {
      const files = source.files.map((file) => file.path);
      const env = { ...image.env };
      const argv = expandCommand(language.compile, language, { files, memoryMb: source.compileLimits.memoryMb });
      const compiled = await container.exec({ argv, env, limits: execLimits(source.compileLimits), ...(signal === undefined ? {} : { signal }) });
      if (compiled.status === "internal_error") {
        if (compiled.error?.step === "execve") throw new WarrenError("function_build_failed", `The compiler ${argv[0] ?? ""} could not be started: ${compiled.error.message}`);
        throw new WarrenError("function_build_failed", `Warren could not compile the function: ${compiled.error?.message ?? "unknown"}`);
      }
      const output = Buffer.concat([compiled.stdout, compiled.stderr]).subarray(0, BUILD_OUTPUT_CAP).toString("utf8");
      if (compiled.status !== "ok") return { ok: false, stage: "compile", message: compileMessage(compiled.status, compiled.exitCode), output };
      // Everything in the work dir, as an archive: the build is what the compiler added or changed.
      const archive = await container.exec({ argv: ["tar", "--format=ustar", "-cf", "-", "."], env, limits: { wallTimeMs: 30_000, cpuTimeMs: 20_000, memoryMb: 128, processes: 8, outputKb: BUILD_MAX_KB } });
      if (archive.status === "output_limit_exceeded") return { ok: false, stage: "compile", message: `The build is over ${BUILD_MAX_KB} KiB.`, output };
      if (archive.status !== "ok") throw new WarrenError("function_build_failed", `Warren could not take the build out of its container: ${archive.error?.message ?? archive.stderr.toString("utf8").slice(0, 500)}`);
      return { ok: true, build: builtFiles(untar(archive.stdout), source.files) };
    } finally {
      await container.destroy();
      lease?.release();
    }
  }
}

/** Resolves after the I/O and the promises of the event loop's current turn (setImmediate). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function compileMessage(status: string, exitCode: number | null): string {
  if (status === "runtime_error") return `The compiler failed (exit code ${exitCode ?? "none"}).`;
  return `The compiler went over its limits (${status}).`;
}

/** Warren could not prepare the invocation's container: status failed (the function is not at fault). */
function failedOutcome(error: WarrenError, cold: boolean): InvocationOutcome {
  return { status: "failed", body: Buffer.alloc(0), contentType: "application/json", error: { code: error.code, message: error.message }, durationMs: 0, cpuTimeMs: 0, memoryKb: 0, cold };
}
