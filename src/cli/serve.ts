import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createApp } from "../api/app.js";
import type { ApiDeps } from "../api/context.js";
import { attachSessions } from "../api/sessions.js";
import { attachPistonConnect } from "../api/compat/piston/connect.js";
import { Metrics } from "../telemetry/metrics.js";
import { apiOptions } from "../api/options.js";
import { resolveDataDir } from "../config/data-dir.js";
import { loadSettings } from "../config/load-settings.js";
import type { Environment } from "../config/settings.js";
import { InvalidRequestError } from "../errors.js";
import { createLogger } from "../telemetry/log.js";
import { recordPhaseTimings } from "../telemetry/phase-timings.js";
import { BullMqQueue, openQueue, type QueueHealth } from "../queue/index.js";
import { openSandboxHost } from "../sandbox/sandbox-host.js";
import { ImageCatalog } from "../sandbox/images/catalog.js";
import { loadHostImage } from "../sandbox/images/host-image.js";
import { imageInfo } from "../sandbox/images/image-info.js";
import { callbackPolicy } from "../callback/callback-policy.js";
import { sandboxProbe } from "../sandbox/sandbox-probe.js";
import { startWorker } from "../worker/start-worker.js";
import { createFunctionRuntime } from "../worker/functions/runtime.js";
import { parseCommand, positiveInteger } from "./args.js";
import { serveNotice } from "./listen-notice.js";
import { exitSoon, onShutdown, within } from "./shutdown.js";
import { warrenVersion } from "./version.js";

export const SERVE_USAGE = `Usage: warren serve [--port N] [--host ADDR] [--no-worker]

The HTTP API (API.md). Without REDIS_URL: the embedded in-process queue and a
worker in this process. With REDIS_URL: BullMQ; --no-worker leaves the jobs to
\`warren worker\` processes.

  --port N      port (default: PORT, else 8080)
  --host ADDR   address to listen on (default: WARREN_HOST; else 127.0.0.1, this
                machine only, or 0.0.0.0, all interfaces, when WARREN_API_KEYS is set)
  --no-worker   API only (needs REDIS_URL)

Anyone who can reach the API can run code on this machine: without API keys it
listens on loopback unless told otherwise. At start-up one line on stderr says who can
reach it and whether keys are required.`;

/**
 * Where the API listens unless --host or WARREN_HOST says: the API runs code
 * on this machine for whoever reaches it, so without API keys only this
 * machine may (Judge0 and Piston listen on every interface with no key).
 * With keys the operator has made the API fit to be reached, and a server
 * with keys that listened on loopback alone would look broken to its
 * clients; the start-up line says which it is either way.
 */
function defaultHost(keysRequired: boolean): string {
  return keysRequired ? "0.0.0.0" : "127.0.0.1";
}

/** The installed images of `dataDir`. */
function catalogOf(dataDir: string): ImageCatalog {
  return new ImageCatalog(dataDir, loadHostImage(dataDir));
}

/** How long SIGTERM waits for running jobs before handing them back. */
const SHUTDOWN_MS = 30_000;

export async function serveCommand(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("serve", SERVE_USAGE, {
    args: argv,
    strict: true,
    options: { port: { type: "string" }, host: { type: "string" }, "no-worker": { type: "boolean", default: false } },
  });
  if (parsed === undefined) return 0; // --help
  const { values } = parsed;
  const settings = loadSettings(env, "serve");
  const port = positiveInteger("port", values.port) ?? settings.serve.port;
  const keysRequired = settings.api.apiKeys.length > 0;
  const host = values.host ?? settings.serve.host ?? defaultHost(keysRequired);
  const config = settings.queue;
  const withWorker = !values["no-worker"];
  if (!withWorker && config.redisUrl === undefined) {
    throw new InvalidRequestError("warren serve --no-worker needs REDIS_URL: without Redis the queue is in this process, so no other worker could take its jobs.");
  }
  const callback = { policy: callbackPolicy(settings.callback, [port]) };
  const logger = createLogger(settings.telemetry.logLevel);
  recordPhaseTimings(settings.telemetry.phaseTimings);
  const sandbox = withWorker ? await openSandboxHost(settings.sandbox, { pool: true }) : undefined;
  // Without a worker here, the API still lists (and checks requests against) the images of this data dir.
  const catalog = sandbox?.catalog ?? catalogOf(resolveDataDir(settings.sandbox.dataDir));
  const languages = () => catalog.languages();
  const images = () => catalog.images().map((image) => imageInfo(image, catalog.store));
  const queue = await openQueue(config);
  const metrics = new Metrics(() => queue.depth());
  const functions = sandbox === undefined ? undefined : createFunctionRuntime(sandbox, { maxZygotesPerVersion: settings.worker.functionZygotes, nodeZygotes: settings.worker.functionNodeZygotes, onError: (error) => logger.warn({ err: error }, "a function's warm container or zygote could not be prepared; its invocations go on another way") });
  const worker = sandbox === undefined ? undefined : startWorker(queue, sandbox, config, metrics, logger, callback, functions);
  const probe = sandbox === undefined ? undefined : sandboxProbe(sandbox, (result) => metrics.sandboxStarted(result.seconds));
  const ready = async (): Promise<QueueHealth> => {
    const health = await queue.health();
    if (!health.ok) return health;
    if (probe !== undefined) return probe();
    if (queue instanceof BullMqQueue && (await queue.liveWorkers()) === 0) {
      return { ok: false, reason: "no live worker: start `warren worker` with the same REDIS_URL" };
    }
    return { ok: true };
  };
  const deps: ApiDeps = { queue, languages, images, ready, metrics, logger, callback, options: { ...apiOptions(settings.api, [port], warrenVersion()), pendingMaxBytes: config.pendingMaxBytes } };
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, port, hostname: host }) as Server;
  // GET /v1/sessions: WebSocket upgrades of the same server, on the same deps (one admission bound with POST /v1/runs).
  const sessions = attachSessions(server, deps);
  // Piston's WebSocket, /piston/api/v2/connect, on the same server (WARREN_COMPAT=piston).
  const pistonConnect = deps.options.compat?.includes("piston") ? attachPistonConnect(server, deps) : undefined;
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const bound = server.address() as AddressInfo;
  logger.info({ port, host, queue: queue.kind, worker: withWorker, concurrency: withWorker ? config.concurrency : 0 }, `warren listening on http://${host}:${port}`);
  process.stderr.write(`${serveNotice(bound, keysRequired)}\n`);
  await onShutdown(logger, async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Every session's run is cancelled (its client told, 1001) before the worker and the queue close.
    await sessions.close();
    await pistonConnect?.close();
    if (worker !== undefined) await within(SHUTDOWN_MS, worker.close(), () => worker.close(true));
    await functions?.close();
    await queue.close();
    await sandbox?.pool?.close();
    server.closeAllConnections();
    await closed;
    logger.info("stopped");
  });
  exitSoon();
  return 0;
}
