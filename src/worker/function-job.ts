import type { Logger } from "pino";
import { WarrenError } from "../errors.js";
import { summaryOf, type FunctionStore, type StoredCode, type StoredVersion } from "../queue/function-store.js";
import type { QueuedJob } from "../queue/types.js";
import { fromWireSource, invocationReport, runtimeName, type FunctionJob, type FunctionJobReport } from "../run/function-wire.js";
import type { FunctionRuntime, FunctionVersion } from "../run/functions.js";
import { failedResult, type RunResult } from "../run/result.js";
import { CodeCache } from "./code-cache.js";
import { markPhase } from "../telemetry/phase-timings.js";

export interface FunctionJobDeps {
  readonly runtime: FunctionRuntime | undefined;
  readonly store: FunctionStore;
  readonly logger: Logger;
  /** This worker's id, reported with each invocation it runs (X-Warren-Worker). */
  readonly workerId?: string;
  /** Bytes of code and builds this worker keeps fetched. @defaultValue 64 MiB */
  readonly cacheBytes?: number;
}

/**
 * The worker's part of functions (docs/api-extensions.md, *Functions*): a
 * deploy job is the trial (FunctionRuntime.build) and, when it passes, the
 * commit of a new version; an invoke job fetches the version's code (cached
 * here by digest) and runs it (FunctionRuntime.invoke). Their results are
 * RunResults whose `function` says what happened: a function's fault is a
 * completed job with its status inside, Warren's own is `failed`.
 */
export function functionJobs(deps: FunctionJobDeps) {
  const cache = new CodeCache(deps.cacheBytes ?? 64 * 2 ** 20);
  void deps.store
    .onRemoved((scope, name) => {
      void deps.runtime?.retire(runtimeName(scope, name)).catch((error: unknown) => deps.logger.warn({ err: error, function: name }, "retiring a deleted function's pool failed"));
    })
    .catch((error: unknown) => deps.logger.warn({ err: error }, "cannot watch function deletions: deleted functions' pools drain only when idle"));

  const completed = (job: QueuedJob, report: FunctionJobReport): RunResult => ({
    id: job.id,
    status: "completed",
    language: job.language,
    version: job.version,
    verdict: null,
    compile: null,
    run: null,
    tests: null,
    function: report,
  });

  return async function handle(job: QueuedJob, fn: FunctionJob, signal: AbortSignal): Promise<RunResult> {
    const runtime = deps.runtime;
    if (runtime === undefined) return failedResult(job, { code: "functions_unavailable", message: "This worker has no function runtime." });
    const log = deps.logger.child({ runId: job.id, function: fn.name });
    try {
      if (fn.kind === "deploy") {
        const source = fromWireSource(fn.source);
        const outcome = await runtime.build({ ...source, name: runtimeName(fn.scope, fn.name) }, signal);
        if (!outcome.ok) {
          log.info({ stage: outcome.stage }, "function deploy refused: it cannot start");
          return completed(job, { kind: "deploy", name: fn.name, refused: { code: "function_cannot_start", message: outcome.message, stage: outcome.stage, output: outcome.output } });
        }
        const version = await deps.store.commit(fn.scope, source, outcome.build, fn.label, job.id); // once per deploy job, however often BullMQ runs it
        log.info({ version: version.version, digest: version.digest }, "function deployed");
        return completed(job, { kind: "deploy", name: fn.name, deployed: summaryOf(version) });
      }
      const version = await deps.store.resolve(fn.scope, fn.name, String(fn.number));
      const code = version === undefined ? undefined : await cache.get(version.digest, () => deps.store.code(version.digest));
      if (version === undefined || code === undefined) {
        return completed(job, { kind: "invoke", name: fn.name, version: fn.version, number: fn.number, invocation: gone(fn.name) });
      }
      markPhase("worker", job.id, "fetched");
      const outcome = await runtime.invoke(functionVersion(fn.scope, version, code), { body: Buffer.from(fn.event, "base64"), contentType: fn.contentType }, { id: job.id, logs: fn.logs, signal });
      markPhase("worker", job.id, "invoked");
      log.info({ status: outcome.status, cold: outcome.cold, durationMs: outcome.durationMs }, "function invoked");
      return completed(job, { kind: "invoke", name: fn.name, version: fn.version, number: fn.number, invocation: invocationReport(outcome), ...(deps.workerId === undefined ? {} : { worker: deps.workerId }) });
    } catch (error) {
      // The store refusing a commit (label taken, caps) is the deploy's answer; anything else is Warren's failure.
      if (error instanceof WarrenError && fn.kind === "deploy" && ["version_exists", "function_too_large", "function_store_full"].includes(error.code)) {
        return completed(job, { kind: "deploy", name: fn.name, refused: { code: error.code, message: error.message } });
      }
      if (!(error instanceof WarrenError)) log.error({ err: error }, "function job failed");
      return failedResult(job, { code: error instanceof WarrenError ? error.code : "worker_failed", message: (error as Error).message });
    }
  };
}

/** An invocation of a version deleted after it was queued: the function is gone (the API answers 404). */
function gone(name: string) {
  return {
    status: "failed" as const,
    body: "",
    contentType: "application/json",
    error: { code: "not_found", message: `Function ${name} was deleted before this invocation ran.` },
    durationMs: 0,
    cpuTimeMs: 0,
    memoryKb: 0,
    cold: false,
  };
}

export { runtimeName };

function functionVersion(scope: string, version: StoredVersion, code: StoredCode): FunctionVersion {
  return Object.freeze({
    name: runtimeName(scope, version.name),
    language: version.language,
    languageVersion: version.languageVersion,
    image: version.image,
    mode: version.mode,
    handler: version.handler,
    files: code.files,
    env: version.envValues,
    limits: version.limits,
    compileLimits: version.compileLimits,
    version: version.version,
    number: version.number,
    digest: version.digest,
    build: code.build,
    createdAt: version.createdAt,
    // context.function_name is the name the user deployed, not the runtime's key-scoped one
    ...(scope === "" ? {} : { owner: scope, functionName: version.name }),
  });
}
