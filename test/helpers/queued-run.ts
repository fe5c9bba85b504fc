import { randomUUID } from "node:crypto";
import { pino } from "pino";
import { Metrics } from "../../src/telemetry/metrics.js";
import type { RunRequestInput } from "../../src/run/request.js";
import { queueConfig } from "../../src/queue/config.js";
import { waitForResult } from "../../src/queue/index.js";
import { MemoryQueue } from "../../src/queue/memory-queue.js";
import { parseRunRequest } from "../../src/run/job-spec.js";
import { MAX_LIMITS } from "../../src/run/limits.js";
import { createProcessor } from "../../src/worker/processor.js";
import type { RunResult } from "../../src/run/result.js";
import type { SandboxHost } from "../../src/sandbox/sandbox-host.js";

/** Tries per job in queuedRun: a retry (Warren's failure) shows as more than one attempt. */
export const ATTEMPTS = 3;

export interface QueuedRun {
  readonly result: RunResult;
  /** How many times the worker ran the job (each time from the start: container, compile, tests). */
  readonly attempts: number;
  /** The worker's /metrics text (warren_runs_total counts every attempt). */
  readonly metrics: string;
}

/**
 * Runs BODY through the in-process queue with ATTEMPTS tries (as distributed
 * mode retries Warren's failures) and the real worker (createProcessor →
 * runJob) on HOST, and counts how many times the worker ran it.
 */
export async function queuedRun(body: RunRequestInput, host: SandboxHost): Promise<QueuedRun> {
  const queue = new MemoryQueue({ ...queueConfig({}), attempts: ATTEMPTS, backoffMs: 10 });
  const metrics = new Metrics();
  const processor = createProcessor({ host, maxima: MAX_LIMITS, metrics, logger: pino({ level: "silent" }) });
  let attempts = 0;
  const worker = queue.work(
    (job, signal, settle, events) => {
      attempts++;
      return processor.handle(job, signal, settle, events);
    },
    { concurrency: 1 },
  );
  let result: RunResult | undefined;
  try {
    const id = randomUUID();
    await queue.enqueue({ id, language: body.language, version: "", request: parseRunRequest(body) }, 100);
    result = await waitForResult(queue, id, 600_000);
  } finally {
    await worker.close();
    await queue.close();
  }
  if (result === undefined) throw new Error("the job vanished from the queue");
  return { result, attempts, metrics: await metrics.registry.metrics() };
}

/** The line Warren appends to stderr when the job made its program unable to start (src/worker/exec-blame.ts). */
export const couldNotStart = (explanation: string) => `warren: the program could not be started: ${explanation}\n`;
/** What that line adds when the program started in an earlier test of the job. */
export const SINCE = " (it started in an earlier test of this job, which changed it since)";
