import { parseArgs } from "node:util";
import { Metrics } from "../api/metrics.js";
import { InvalidRequestError } from "../errors.js";
import { createLogger } from "../log.js";
import { BullMqQueue, queueConfig } from "../queue/index.js";
import { openSandbox } from "../sandbox/environment.js";
import { startWorker } from "../worker/start-worker.js";
import { usageError } from "./args.js";
import { exitSoon, onShutdown, within } from "./shutdown.js";

export const WORKER_USAGE = `Usage: warren worker

A queue worker: takes jobs from BullMQ on REDIS_URL and runs them in sandboxes,
WARREN_CONCURRENCY at once (default: the number of cores). SIGTERM: stop taking
jobs, finish the running ones (within WARREN_SHUTDOWN_MS, default 30 s; past
that they are handed back to other workers), then exit.`;

export async function workerCommand(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: { help: { type: "boolean", short: "h", default: false } } }));
  } catch (error) {
    throw usageError("worker", error, WORKER_USAGE);
  }
  if (values.help) {
    process.stdout.write(`${WORKER_USAGE}\n`);
    return 0;
  }
  const env = process.env;
  const config = queueConfig(env);
  if (config.redisUrl === undefined) throw new InvalidRequestError("warren worker needs REDIS_URL (e.g. redis://127.0.0.1:6379): workers take their jobs from Redis.");
  const shutdownMs = Number(env.WARREN_SHUTDOWN_MS ?? 30_000);
  const logger = createLogger(env, "warren-worker");
  const sandbox = await openSandbox({ env, pool: true });
  const queue = await BullMqQueue.open(config);
  const worker = startWorker(queue, sandbox, config, new Metrics(), logger);
  await onShutdown(logger, async () => {
    await within(Number.isFinite(shutdownMs) ? shutdownMs : 30_000, worker.close(), () => worker.close(true));
    await queue.close();
    await sandbox.pool?.close();
    logger.info("stopped");
  });
  exitSoon();
  return 0;
}
