import type { Logger } from "pino";
import type { Metrics } from "../telemetry/metrics.js";
import { WarrenError } from "../errors.js";
import { callbackUrlOf, type QueuedJob, type RunHandler } from "../queue/types.js";
import { sandboxLanguages } from "../sandbox/images/catalog.js";
import type { SandboxHost } from "../sandbox/sandbox-host.js";
import { notifyCallback, type CallbackOptions } from "../callback/callback-delivery.js";
import { jobSpecFromBody } from "../run/job-spec.js";
import type { Limits } from "../run/limits.js";
import type { SerializedResult } from "../run/result-json.js";
import { failedResult, type RunResult } from "../run/result.js";
import { flushPhases, markPhase } from "../telemetry/phase-timings.js";
import { runJob } from "./run-job.js";
import type { FunctionStore } from "../queue/function-store.js";
import type { FunctionRuntime } from "../run/functions.js";
import { functionJobs } from "./function-job.js";

export interface ProcessorDeps {
  readonly host: SandboxHost;
  readonly maxima: Limits;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly callback?: CallbackOptions;
  /** WARREN_RESULT_MAX_BYTES: the output one result keeps; default RESULT_MAX_BYTES.default. */
  readonly resultMaxBytes?: number;
  /** This worker's id (reported with each invocation). */
  readonly workerId?: string;
  /** Functions (docs/api-extensions.md, *Functions*): the versions' store, and the runtime that builds and invokes them (none: function jobs fail). */
  readonly functions?: { readonly store: FunctionStore; readonly runtime: FunctionRuntime | undefined };
}

/** The one worker implementation, for both queue backends: a queued job → runJob → RunResult. */
export function createProcessor(deps: ProcessorDeps): { handle: RunHandler; stored: (job: QueuedJob, result: SerializedResult) => void } {
  const { host, logger } = deps;
  const functions = deps.functions === undefined ? undefined : functionJobs({ ...deps.functions, logger, ...(deps.workerId === undefined ? {} : { workerId: deps.workerId }) });
  const handle: RunHandler = async (job, signal, settle, events, input) => {
    markPhase("worker", job.id, "started");
    const log = logger.child({ runId: job.id });
    if (job.fn !== undefined) {
      if (functions === undefined) return failedResult(job, { code: "functions_unavailable", message: "This worker does not run functions." });
      const done = deps.metrics.started(job.language);
      const result = await functions(job, job.fn, signal);
      done(result);
      flushPhases("worker", job.id);
      return result;
    }
    let spec;
    try {
      // The request crossed the queue: validate it again, against this worker's images and maxima.
      spec = jobSpecFromBody(job.request, { languages: sandboxLanguages(host), maxima: deps.maxima });
    } catch (error) {
      if (!(error instanceof WarrenError)) throw error;
      log.warn({ code: error.code }, `this worker cannot run the job: ${error.message}`);
      return failedResult(job, error);
    }
    log.info({ language: spec.language.id }, "run started");
    const done = deps.metrics.started(spec.language.id);
    let finished = false;
    const finish = (result: RunResult) => {
      if (finished) return;
      finished = true;
      done(result);
      log.info({ status: result.status, verdict: result.verdict, ...(result.error === undefined ? {} : { error: result.error }) }, "run finished");
    };
    // The result is stored (and waiters answered) while the container is torn down.
    const result = await runJob(spec, host, job.id, {
      signal,
      onEvent: events,
      ...(input === undefined ? {} : { stdinSource: input }),
      ...(deps.resultMaxBytes === undefined ? {} : { resultMaxBytes: deps.resultMaxBytes }),
      onResult: (early) => {
        settle(early);
        finish(early);
      },
    });
    finish(result);
    flushPhases("worker", job.id);
    return result;
  };
  const stored = (job: QueuedJob, result: SerializedResult) => notifyCallback(callbackUrlOf(job), result, logger, deps.callback);
  return { handle, stored };
}
