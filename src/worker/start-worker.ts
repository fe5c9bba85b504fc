import type { Logger } from "pino";
import type { Metrics } from "../telemetry/metrics.js";
import type { QueueConfig } from "../queue/config.js";
import type { JobQueue, QueueWorker } from "../queue/types.js";
import type { CallbackOptions } from "../callback/callback-delivery.js";
import { MAX_LIMITS } from "../run/limits.js";
import { createProcessor } from "./processor.js";
import type { SandboxHost } from "../sandbox/sandbox-host.js";
import type { FunctionRuntime } from "../run/functions.js";

/**
 * Attaches the worker (runJob on `host`) to `queue` with WARREN_CONCURRENCY
 * slots; `callback` says how its webhooks are sent; `functions` builds and
 * invokes deployed functions (none: their jobs fail, functions_unavailable).
 */
export function startWorker(queue: JobQueue, host: SandboxHost, config: QueueConfig, metrics: Metrics, logger: Logger, callback?: CallbackOptions, functions?: FunctionRuntime): QueueWorker {
  const processor = createProcessor({
    host,
    maxima: MAX_LIMITS,
    metrics,
    logger,
    resultMaxBytes: config.resultMaxBytes,
    functions: { store: queue.functions, runtime: functions },
    ...(callback === undefined ? {} : { callback }),
  });
  logger.info({ concurrency: config.concurrency, queue: queue.kind }, "worker started");
  return queue.work(processor.handle, { concurrency: config.concurrency, onStored: processor.stored });
}
