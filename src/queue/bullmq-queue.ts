import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { parseResult, serializeResult, type SerializedResult } from "../run/result-json.js";
import { cancelledResult, isFinal, pendingResult, type RunResult } from "../run/result.js";
import { BullMqWorker, cancelChannel, finishedChannel, heartbeatKey, WORKER_ALIVE_MS } from "./bullmq-worker.js";
import type { QueueConfig } from "./config.js";
import { orUnavailable } from "./errors.js";
import { apiConnection, connect } from "./redis-connection.js";
import { RedisRateLimiter, type RateLimiter } from "./rate-limiter.js";
import { parseFinishedMessage, RedisResultStore } from "./redis-store.js";
import { eventsChannel, RedisEventLogs } from "./redis-events.js";
import { redisSessionWriter } from "./redis-session-input.js";
import { RedisFunctionStore } from "./redis-function-store.js";
import { RedisRecordStore } from "./redis-record-store.js";
import type { RecordStore } from "./record-store.js";
import type { SessionInputWriter } from "./session-input.js";
import type { JobQueue, QueuedJob, QueueHealth, QueueWorker, RunHandler, WorkOptions } from "./types.js";
import { runtimeName } from "../run/function-wire.js";
import { warmField, WarmRouter } from "./warm-routes.js";

/** Jobs that failed for good (Warren's fault) kept with their request, at most. */
const FAILED_JOBS_KEPT = 20;

export { WORKER_ALIVE_MS };

/**
 * The distributed queue: BullMQ on Redis. BullMQ brings priorities,
 * retries with backoff (only for Warren's own failures), stalled-job recovery
 * and retention; results live in Redis hashes any API instance can read.
 */
export class BullMqQueue implements JobQueue {
  readonly kind = "bullmq";
  readonly #config: QueueConfig & { redisUrl: string };
  readonly #redis: Redis;
  readonly #queue: Queue;
  readonly #store: RedisResultStore;
  readonly #workers = new Set<BullMqWorker>();
  readonly #router: WarmRouter;
  #subscriber: Promise<Redis> | undefined;
  /** onFinished's listeners, called with each announcement on the finished channel. */
  readonly #finishedListeners = new Set<(id: string, result?: SerializedResult) => void>();
  readonly events: RedisEventLogs;
  readonly functions: RedisFunctionStore;

  private constructor(config: QueueConfig & { redisUrl: string }, redis: Redis) {
    this.#config = config;
    this.#redis = redis;
    this.#store = new RedisResultStore(redis, config.name, { ttlSeconds: config.resultTtlSeconds, maxBytes: config.resultStoreBytes });
    this.events = new RedisEventLogs(redis, (id) => this.#store.eventsKey(id), eventsChannel(config.name), () => this.#subscribe());
    this.functions = new RedisFunctionStore(redis, config.name, () => this.#subscribe(), {
      ...(config.functionMaxBytes === undefined ? {} : { functionMaxBytes: config.functionMaxBytes }),
      ...(config.functionStoreBytes === undefined ? {} : { storeMaxBytes: config.functionStoreBytes }),
    });
    this.#queue = new Queue(config.name, {
      connection: redis,
      defaultJobOptions: {
        attempts: config.attempts,
        backoff: { type: "exponential", delay: config.backoffMs },
        // A job's data is its request (up to WARREN_MAX_BODY_BYTES): once the
        // job is done its result is in the run's hash, so the job goes at once;
        // a few that failed for good are kept a while for a post-mortem.
        removeOnComplete: true,
        removeOnFail: { age: config.resultTtlSeconds, count: FAILED_JOBS_KEPT },
      },
    });
    this.#router = new WarmRouter(redis, config.name, config.resultTtlSeconds, { attempts: config.attempts, backoff: { type: "exponential", delay: config.backoffMs } });
    // Connection errors surface on each call as QueueUnavailableError; without a listener they would crash the process.
    this.#queue.on("error", () => {});
    this.#redis.on("error", () => {});
  }

  /** Connects to `config.redisUrl`; throws QueueUnavailableError when Redis does not answer. */
  static async open(config: QueueConfig): Promise<BullMqQueue> {
    const url = config.redisUrl;
    if (url === undefined) throw new RangeError("BullMqQueue needs REDIS_URL.");
    const redis = apiConnection(url);
    redis.on("error", () => {});
    await connect(redis, url);
    return new BullMqQueue({ ...config, redisUrl: url }, redis);
  }

  records(name: string): RecordStore {
    const limits = { ttlMs: this.#config.resultTtlSeconds * 1000, max: this.#config.resultMax, maxBytes: this.#config.resultStoreBytes };
    return new RedisRecordStore(this.#redis, `${this.#config.name}:records:${name}`, limits);
  }

  async enqueue(job: QueuedJob, priority: number): Promise<RunResult> {
    const queued = pendingResult(job, "queued");
    // Both in flight at once: the result is written first on the connection the
    // Queue also uses, so Redis stores it before the job exists for a worker to take.
    const fn = job.fn;
    const [created, added] = await Promise.allSettled([
      this.#store.create(job.owner === undefined ? serializeResult(queued) : { ...serializeResult(queued), owner: job.owner }),
      (async () => {
        // An invocation goes to a worker holding a prepared container of its version, when one says it does; else to the shared queue.
        if (fn?.kind === "invoke" && (await this.#router.route(job, warmField(runtimeName(fn.scope, fn.name), fn.number), priority)) !== undefined) return;
        // A session's stdin is read by its first try: never tried again.
        await orUnavailable("queue a run", () => this.#queue.add("run", job, { jobId: job.id, priority, ...(job.session === true ? { attempts: 1 } : {}) }));
      })(),
    ]);
    if (created.status === "rejected" || added.status === "rejected") {
      if (added.status === "fulfilled") {
        await this.#queue.remove(job.id).catch(() => {});
        await this.#router.take(job.id).catch(() => {});
      }
      await this.#store.remove(job.id).catch(() => {});
      throw created.status === "rejected" ? created.reason : (added as PromiseRejectedResult).reason;
    }
    return queued;
  }

  openSessionInput(id: string): SessionInputWriter {
    return redisSessionWriter(this.#redis, this.events, {
      name: this.#config.name,
      id,
      ttlSeconds: this.#config.resultTtlSeconds,
      channel: eventsChannel(this.#config.name),
    });
  }

  rateLimiter(): RateLimiter {
    return new RedisRateLimiter(this.#redis, this.#config.name);
  }

  get(id: string): Promise<RunResult | undefined> {
    return this.#store.get(id);
  }

  getSerialized(id: string): Promise<SerializedResult | undefined> {
    return this.#store.getSerialized(id);
  }

  async cancel(id: string, onCancelled?: (job: QueuedJob, result: SerializedResult) => void): Promise<SerializedResult | undefined> {
    const current = await this.#store.getSerialized(id);
    if (current === undefined || isFinal(current.status)) return current;
    const shared = await orUnavailable("find a job", () => this.#queue.getJob(id));
    // A waiting job is removed; an active one is locked by its worker, which we tell to abort it.
    if (shared !== undefined) await shared.remove().catch(() => {});
    // Not on the shared queue: an invocation routed to a worker's own queue (same rules there).
    const data = shared !== undefined ? (shared.data as QueuedJob) : await this.#router.take(id).catch(() => undefined);
    // A queued or running result is a small header: parsing it is cheap.
    const cancelled = serializeResult(cancelledResult(parseResult(current.json)));
    if (!(await this.#store.update(cancelled))) return this.#store.getSerialized(id);
    await orUnavailable("announce a cancel", () => this.#redis.multi().publish(cancelChannel(this.#config.name), id).publish(finishedChannel(this.#config.name), id).exec());
    if (data !== undefined) onCancelled?.(data, cancelled);
    return cancelled;
  }

  async onFinished(listener: (id: string, result?: SerializedResult) => void): Promise<() => void> {
    await this.#subscribe();
    this.#finishedListeners.add(listener);
    return () => this.#finishedListeners.delete(listener);
  }

  async depth(): Promise<number> {
    const counts = await orUnavailable("count jobs", () => this.#queue.getJobCounts("waiting", "prioritized", "delayed"));
    return Object.values(counts).reduce((sum, count) => sum + count, 0);
  }

  async health(): Promise<QueueHealth> {
    try {
      await orUnavailable("ping", () => this.#redis.ping());
      return { ok: true };
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
  }

  /** Workers whose heartbeat is recent (any process). */
  async liveWorkers(): Promise<number> {
    return orUnavailable("count workers", () => this.#redis.zcount(heartbeatKey(this.#config.name), Date.now() - WORKER_ALIVE_MS, "+inf"));
  }

  work(handler: RunHandler, options: WorkOptions): QueueWorker {
    const requeue = async (job: QueuedJob, priority: number) => {
      await this.#queue.add("run", job, { jobId: job.id, priority });
    };
    const worker = new BullMqWorker(this.#config, handler, options, () => this.#workers.delete(worker), requeue);
    this.#workers.add(worker);
    return worker;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#workers].map((worker) => worker.close()));
    await this.#queue.close().catch(() => {});
    await this.#router.close();
    if (this.#subscriber !== undefined) (await this.#subscriber.catch(() => undefined))?.disconnect();
    this.#redis.disconnect();
  }

  #subscribe(): Promise<Redis> {
    this.#subscriber ??= (async () => {
      // A subscriber waits out outages (ioredis re-subscribes on reconnect).
      const subscriber = this.#redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, lazyConnect: false });
      subscriber.on("error", () => {});
      subscriber.setMaxListeners(0);
      const channel = Buffer.from(finishedChannel(this.#config.name));
      // Parsed once per announcement, whatever the number of waiters; as bytes (a result's JSON is not decoded to be answered).
      subscriber.on("messageBuffer", (from: Buffer, message: Buffer) => {
        if (!channel.equals(from)) return;
        const { id, result } = parseFinishedMessage(message);
        for (const listener of this.#finishedListeners) listener(id, result);
      });
      await subscriber.subscribe(finishedChannel(this.#config.name));
      return subscriber;
    })();
    return this.#subscriber;
  }
}
