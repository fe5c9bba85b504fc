import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { warmField } from "../queue/warm-routes.js";
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
  const id = randomUUID();
  const processor = createProcessor({
    workerId: id,
    host,
    maxima: MAX_LIMITS,
    metrics,
    logger,
    resultMaxBytes: config.resultMaxBytes,
    functions: { store: queue.functions, runtime: functions },
    ...(callback === undefined ? {} : { callback }),
  });
  logger.info({ concurrency: config.concurrency, queue: queue.kind }, "worker started");
  const warmVersions = functions?.warmVersions?.bind(functions);
  // Distributed, a worker with warm function containers says which (warm routing: docs/functions.md).
  const warm = warmVersions === undefined ? undefined : () => warmVersions().map((version) => ({ field: warmField(version.name, version.number), ready: version.ready }));
  return queue.work(processor.handle, { id, concurrency: config.concurrency, onStored: processor.stored, ...(warm === undefined ? {} : { warm }) });
}
