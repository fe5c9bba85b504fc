import { pino } from "pino";
import { createApp } from "../../src/api/app.js";
import type { ApiDeps, ApiOptions } from "../../src/api/context.js";
import { Metrics } from "../../src/telemetry/metrics.js";
import { queueConfig } from "../../src/queue/config.js";
import { MemoryQueue } from "../../src/queue/memory-queue.js";
import type { JobQueue, QueueHealth, QueueWorker } from "../../src/queue/index.js";
import { MAX_LIMITS } from "../../src/run/limits.js";
import { imageInfo } from "../../src/sandbox/images/image-info.js";
import type { CallbackOptions } from "../../src/callback/callback-delivery.js";
import { callbackPolicy } from "../../src/callback/callback-policy.js";
import { loadSettings } from "../../src/config/load-settings.js";
import { startWorker } from "../../src/worker/start-worker.js";
import { sandbox } from "../helpers/sandbox.js";
import type { FunctionRuntime } from "../../src/run/functions.js";

export const silent = pino({ level: "silent" });

export interface TestApp {
  readonly app: ReturnType<typeof createApp>;
  /** What the app was made from (attachSessions takes the same). */
  readonly deps: ApiDeps;
  readonly queue: JobQueue;
  readonly metrics: Metrics;
  close(): Promise<void>;
}

/** Callbacks to the test's own receivers on this machine: loopback allowed, as an operator would with WARREN_CALLBACK_ALLOW. */
export const LOOPBACK_CALLBACKS: CallbackOptions = { policy: callbackPolicy(loadSettings({ WARREN_CALLBACK_ALLOW: "127.0.0.0/8,::1/128" }).callback) };

/**
 * The real app on the embedded queue with a real worker in the real sandbox (unless `worker: false`);
 * `callback` is how both send webhooks (default: the default policy, public addresses only).
 */
export async function testApp(options: Partial<ApiOptions> = {}, extra: { worker?: boolean; ready?: () => Promise<QueueHealth>; queue?: JobQueue; callback?: CallbackOptions; functions?: FunctionRuntime } = {}): Promise<TestApp> {
  const env = await sandbox();
  const config = queueConfig({ WARREN_CONCURRENCY: "2" });
  const queue = extra.queue ?? new MemoryQueue(config);
  const metrics = new Metrics(() => queue.depth());
  const worker: QueueWorker | undefined = extra.worker === false ? undefined : startWorker(queue, env, config, metrics, silent, extra.callback, extra.functions);
  const deps: ApiDeps = {
    queue,
    languages: () => env.catalog.languages(),
    images: () => env.catalog.images().map((image) => imageInfo(image, env.catalog.store)),
    ready: extra.ready ?? (async () => ({ ok: true })),
    metrics,
    logger: silent,
    ...(extra.callback === undefined ? {} : { callback: extra.callback }),
    options: { apiKeys: [], rateLimitPerMinute: 0, bodyLimitBytes: 1024 * 1024, waitMs: 30_000, maxima: MAX_LIMITS, ports: [8080], version: "test", ...options },
  };
  const app = createApp(deps);
  return {
    app,
    deps,
    queue,
    metrics,
    close: async () => {
      await worker?.close(true);
      await queue.close();
    },
  };
}

export const post = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

export const python = (code: string, extra: Record<string, unknown> = {}) => ({ language: "python", files: [{ path: "main.py", content: code }], ...extra });
