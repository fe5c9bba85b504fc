import { Metrics } from "../telemetry/metrics.js";
import { loadSettings } from "../config/load-settings.js";
import type { Environment, WorkerSettings } from "../config/settings.js";
import { InvalidRequestError } from "../errors.js";
import { createLogger } from "../telemetry/log.js";
import { recordPhaseTimings } from "../telemetry/phase-timings.js";
import { BullMqQueue } from "../queue/index.js";
import { openSandboxHost } from "../sandbox/sandbox-host.js";
import { callbackPolicy } from "../callback/callback-policy.js";
import { startMetricsServer } from "../worker/metrics-server.js";
import { startWorker } from "../worker/start-worker.js";
import { createFunctionRuntime } from "../worker/functions/runtime.js";
import { parseCommand } from "./args.js";
import { metricsNotice } from "./listen-notice.js";
import { exitSoon, onShutdown, within } from "./shutdown.js";

export const WORKER_USAGE = `Usage: warren worker

A queue worker: takes jobs from BullMQ on REDIS_URL and runs them in sandboxes,
WARREN_CONCURRENCY at once (default: the number of cores). With
WARREN_METRICS_PORT, it serves its own /metrics there (on WARREN_METRICS_HOST,
default 127.0.0.1: this machine only; it says where at start-up). Callbacks go
to public addresses only unless WARREN_CALLBACK_ALLOW lists CIDRs. SIGTERM: stop taking
jobs, finish the running ones (within WARREN_SHUTDOWN_MS, default 30 s; past
that they are handed back to other workers), then exit.`;

export async function workerCommand(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("worker", WORKER_USAGE, { args: argv, strict: true, options: {} });
  if (parsed === undefined) return 0; // --help
  const settings = loadSettings(env, "worker");
  const config = settings.queue;
  if (config.redisUrl === undefined) throw new InvalidRequestError("warren worker needs REDIS_URL (e.g. redis://127.0.0.1:6379): workers take their jobs from Redis.");
  // This worker does not know the API's port: its own-address rule is the API's, at submission.
  const callback = { policy: callbackPolicy(settings.callback) };
  const logger = createLogger(settings.telemetry.logLevel, "warren-worker");
  recordPhaseTimings(settings.telemetry.phaseTimings);
  const sandbox = await openSandboxHost(settings.sandbox, { pool: true });
  const queue = await BullMqQueue.open(config);
  const metrics = new Metrics();
  const functions = createFunctionRuntime(sandbox, { maxZygotesPerVersion: settings.worker.functionZygotes, nodeZygotes: settings.worker.functionNodeZygotes, onError: (error) => logger.warn({ err: error }, "a function's warm container or zygote could not be prepared; its invocations go on another way") });
  const worker = startWorker(queue, sandbox, config, metrics, logger, callback, functions);
  const metricsServer = await maybeMetricsServer(settings.worker, metrics);
  if (metricsServer !== undefined) {
    logger.info({ port: metricsServer.address.port, host: metricsServer.address.address }, "metrics on /metrics");
    process.stderr.write(`${metricsNotice(metricsServer.address)}\n`);
  }
  await onShutdown(logger, async () => {
    await within(settings.worker.shutdownMs, worker.close(), () => worker.close(true));
    await functions.close();
    await queue.close();
    await sandbox.pool?.close();
    await metricsServer?.close();
    logger.info("stopped");
  });
  exitSoon();
  return 0;
}

/** WARREN_METRICS_PORT (and WARREN_METRICS_HOST): the worker's own /metrics; unset, none. */
async function maybeMetricsServer(settings: WorkerSettings, metrics: Metrics) {
  if (settings.metricsPort === undefined) return undefined;
  return startMetricsServer(metrics, { port: settings.metricsPort, host: settings.metricsHost });
}
