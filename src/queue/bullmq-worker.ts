import { randomUUID } from "node:crypto";
import { type Job, Worker } from "bullmq";
import type { Redis } from "ioredis";
import { z } from "zod";
import { functionJobSchema } from "../run/function-wire.js";
import type { WireEvent } from "../run/event-wire.js";
import { serializeResult, type SerializedResult } from "../run/result-json.js";
import { cancelledResult, failedResult, pendingResult, type RunResult } from "../run/result.js";
import type { QueueConfig } from "./config.js";
import { workerConnection } from "./redis-connection.js";
import { RedisResultStore } from "./redis-store.js";
import { eventsChannel, RedisEventAppender } from "./redis-events.js";
import { redisSessionReader } from "./redis-session-input.js";
import { eventLogCaps, RunEventWriter } from "./run-events.js";
import type { QueuedJob, QueueWorker, RunHandler, WorkOptions } from "./types.js";
import { runtimeName } from "../run/function-wire.js";
import { WarmAdvertiser, warmField } from "./warm-routes.js";

/** Pub/sub channel: ids of runs to abort wherever they run. */
export const cancelChannel = (name: string) => `${name}:cancel`;
/** Pub/sub channel: ids of runs that reached a final status. */
export const finishedChannel = (name: string) => `${name}:finished`;
/** Sorted set: worker id → time of its last heartbeat. */
export const heartbeatKey = (name: string) => `${name}:workers`;
const HEARTBEAT_MS = 5_000;
/** How recent a worker's heartbeat must be for it to count as alive. */
export const WORKER_ALIVE_MS = 15_000;
/** The error of a session whose worker was lost mid-run (its job started a second time). */
export const SESSION_LOST = "The worker running this session was lost; start a new session.";

/** A job's data crossed Redis: check its shape (the worker re-validates the request itself). */
const jobDataSchema = z.object({
  id: z.string().min(1),
  language: z.string(),
  version: z.string(),
  request: z.record(z.string(), z.unknown()).optional(),
  fn: functionJobSchema.optional(),
  function: z.looseObject({ kind: z.enum(["deploy", "invoke"]), name: z.string() }).optional(),
  owner: z.string().optional(),
  session: z.boolean().optional(),
});

/** Thrown to let BullMQ retry a job that Warren itself failed (with backoff); never for a user's verdict. */
class WarrenFaultRetry extends Error {
  override readonly name = "WarrenFaultRetry";
}

/**
 * One BullMQ worker: runs `concurrency` jobs at once, aborts a job when the
 * API announces its cancel, and beats a heartbeat that /readyz counts.
 */
export class BullMqWorker implements QueueWorker {
  readonly #worker: Worker;
  readonly #redis: Redis;
  /** Given to BullMQ, which does not close a connection it was handed: we do. */
  readonly #bullConnection: Redis;
  readonly #subscriber: Redis;
  readonly #store: RedisResultStore;
  readonly #name: string;
  readonly #id: string;
  /** This worker's own queue of invocations routed to it (docs/functions.md, *Distributed: warm routing*), with its advert; only when it has a function runtime. */
  readonly #own: { readonly worker: Worker; readonly connection: Redis; readonly advertiser: WarmAdvertiser } | undefined;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #onClose: () => void;
  readonly #ttlSeconds: number;
  readonly #eventCaps: ReturnType<typeof eventLogCaps>;
  readonly #redisUrl: string;
  #active = 0;
  #closed: Promise<void> | undefined;

  /** REQUEUE puts a job on the shared queue (a lapsed worker's routed job, rescued). */
  constructor(config: QueueConfig & { redisUrl: string }, handler: RunHandler, options: WorkOptions, onClose: () => void, requeue: (job: QueuedJob, priority: number) => Promise<void>) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`Expected concurrency to be a positive integer, got ${options.concurrency}.`);
    }
    this.#name = config.name;
    this.#id = options.id ?? randomUUID();
    this.#onClose = onClose;
    this.#ttlSeconds = config.resultTtlSeconds;
    this.#redisUrl = config.redisUrl;
    this.#eventCaps = eventLogCaps(config.resultMaxBytes);
    this.#redis = workerConnection(config.redisUrl);
    this.#redis.on("error", () => {});
    this.#store = new RedisResultStore(this.#redis, config.name, { ttlSeconds: config.resultTtlSeconds, maxBytes: config.resultStoreBytes });
    this.#bullConnection = workerConnection(config.redisUrl);
    this.#bullConnection.on("error", () => {});
    this.#worker = new Worker(config.name, (job, _token, signal) => this.#process(job, handler, options, signal), {
      connection: this.#bullConnection,
      concurrency: options.concurrency,
      lockDuration: config.lockDurationMs,
      stalledInterval: config.stalledIntervalMs,
      maxStalledCount: config.maxStalled,
    });
    this.#worker.on("error", () => {});
    const failed = (job: Job | undefined, error: Error) => {
      if (job === undefined || job.attemptsMade < (job.opts.attempts ?? 1) && !/stalled/i.test(error.message)) return;
      const data = jobDataSchema.safeParse(job.data);
      if (!data.success) return;
      const failed = failedResult(data.data, { code: "job_failed", message: error.message });
      void this.#finish(failed).catch(() => {});
    };
    // A job that failed for good (stalled too often, or a bug): its result says so.
    this.#worker.on("failed", failed);
    if (options.warm !== undefined) {
      const advertiser = new WarmAdvertiser(this.#redis, config.name, this.#id, options.warm, requeue, { heartbeatKey: heartbeatKey(config.name), aliveMs: WORKER_ALIVE_MS });
      const connection = workerConnection(config.redisUrl);
      connection.on("error", () => {});
      // Routed invocations are warm ones, as many as this worker advertised containers for (within its prepared budget).
      const worker = new Worker(advertiser.queueName, (job, _token, signal) => this.#process(job, handler, options, signal, advertiser), {
        connection,
        concurrency: options.concurrency,
        lockDuration: config.lockDurationMs,
        stalledInterval: config.stalledIntervalMs,
        maxStalledCount: config.maxStalled,
      });
      worker.on("error", () => {});
      worker.on("failed", failed);
      this.#own = { worker, connection, advertiser };
    }
    this.#subscriber = workerConnection(config.redisUrl);
    this.#subscriber.on("error", () => {});
    this.#subscriber.on("message", (_channel: string, id: string) => {
      this.#worker.cancelJob(id, "cancelled");
      this.#own?.worker.cancelJob(id, "cancelled");
    });
    void this.#subscriber.subscribe(cancelChannel(config.name)).catch(() => {});
    this.#heartbeat = setInterval(() => void this.#beat(), HEARTBEAT_MS);
    void this.#beat();
  }

  get active(): number {
    return this.#active;
  }

  /** This worker's id: its heartbeat's, its advert's and its own queue's. */
  get id(): string {
    return this.#id;
  }

  close(force = false): Promise<void> {
    this.#closed ??= (async () => {
      clearInterval(this.#heartbeat);
      // No more invocations are routed here; those queued here already are run (or, with force, handed back), the rest rescued below.
      await this.#own?.advertiser.withdraw();
      // Without force BullMQ waits for the running jobs; with it they stall and another worker takes them over.
      await Promise.all([this.#worker.close(force).catch(() => {}), this.#own?.worker.close(force).catch(() => {})]);
      // What is still queued here goes to the shared queue; what arrives later (a route claimed just before the advert went) and
      // what force handed back are rescued by the other workers (this worker's advert is gone).
      await this.#redis.zrem(heartbeatKey(this.#name), this.#id).catch(() => {});
      await this.#own?.advertiser.rescue();
      this.#own?.connection.disconnect();
      this.#subscriber.disconnect();
      this.#bullConnection.disconnect();
      this.#redis.disconnect();
      this.#onClose();
    })();
    return this.#closed;
  }

  async #process(job: Job, handler: RunHandler, options: WorkOptions, signal: AbortSignal | undefined, routed?: WarmAdvertiser): Promise<string> {
    const data = jobDataSchema.parse(job.data) as QueuedJob;
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal?.addEventListener("abort", abort, { once: true });
    this.#active += 1;
    // A session taken over from a worker that was lost (stall recovery): its stdin was partly read there, and
    // what the program did with it is gone. It is never run again: it fails at once, and its client is told.
    if (data.session === true && job.attemptsStarted > 1) {
      try {
        const lost = failedResult(data, { code: "session_lost", message: SESSION_LOST });
        const stored = await this.#finish(lost);
        if (stored !== undefined) options.onStored?.(data, stored);
        return lost.status;
      } finally {
        this.#active -= 1;
        signal?.removeEventListener("abort", abort);
      }
    }
    const input =
      data.session === true
        ? redisSessionReader(this.#redisUrl, this.#redis, { name: this.#name, id: data.id, ttlSeconds: this.#ttlSeconds, channel: eventsChannel(this.#name) })
        : undefined;
    try {
      // `running` is stored while the handler starts, not a round trip before it. Whatever the job writes next (its
      // events, its final result) waits for it, so its stream and its status go in order. A job cancelled while it waited,
      // or between tries, finds the run final: its handler, started meanwhile, is aborted and the run left as it is.
      let runningFailed: { error: unknown } | undefined;
      const running = this.#store.update(serializeResult(pendingResult(data, "running"))).then(
        (stored) => {
          if (!stored) controller.abort();
          return stored;
        },
        (error: unknown) => {
          runningFailed = { error };
          controller.abort();
          return false;
        },
      );
      const retried = data.session !== true && job.attemptsMade + 1 < (job.opts.attempts ?? 1);
      // The job's events go to its stream; all of them are in Redis before its final status (the stream's end).
      const appender = new RedisEventAppender(this.#redis, { run: this.#store.key(data.id), events: this.#store.eventsKey(data.id) }, { ttlSeconds: this.#ttlSeconds, channel: eventsChannel(this.#name), id: data.id, after: running });
      const events = new RunEventWriter(this.#eventCaps, appender.append);
      const eventsDone = async () => {
        events.close();
        await appender.drained();
      };
      // The final result goes with the job's last events, in one script: they are in its stream before its final status.
      const finish = async (result: RunResult) => {
        if (!(await running)) return undefined;
        events.close();
        const last = await appender.rest();
        try {
          return await this.#finish(result, last);
        } catch (error) {
          appender.putBack(last);
          throw error;
        }
      };
      // A final result the handler has before its clean-up is stored (and announced) at once.
      let early: { result: RunResult; stored: Promise<boolean | undefined> } | undefined;
      const settle = (result: RunResult) => {
        if (early !== undefined || controller.signal.aborted || (result.status === "failed" && retried)) return;
        const stored = finish(result).then(
          (done) => {
            if (done !== undefined) options.onStored?.(data, done);
            return done !== undefined;
          },
          () => undefined, // not stored: stored again below, where a failure fails the job
        );
        early = { result, stored };
      };
      let result: RunResult;
      try {
        result = await handler(data, controller.signal, settle, events.sink, input);
      } catch (error) {
        result = failedResult(data, { code: "worker_failed", message: (error as Error).message });
      }
      if (!(await running)) {
        // Not stored (Redis did not answer): the job fails, and BullMQ tries it again, as if it had never started.
        if (runningFailed !== undefined) throw runningFailed.error;
        return "cancelled";
      }
      if (early !== undefined && (await early.stored) !== undefined) return controller.signal.aborted ? "cancelled" : early.result.status;
      if (controller.signal.aborted) result = cancelledResult(data);
      if (result.status === "failed" && retried) {
        await eventsDone();
        await this.#store.update(serializeResult(pendingResult(data, "queued")));
        throw new WarrenFaultRetry(`Warren failed to run the job (${result.error?.code ?? "internal_error"}: ${result.error?.message ?? "see the stages"}); retrying.`);
      }
      const stored = await finish(result);
      if (stored !== undefined) options.onStored?.(data, stored);
      return result.status;
    } finally {
      await input?.close();
      // An invocation took a warm container (or made one ready behind it): the advert says so now, and a routed one's claim ends.
      if (data.fn?.kind === "invoke") await this.#own?.advertiser.done(routed === undefined ? undefined : warmField(runtimeName(data.fn.scope, data.fn.name), data.fn.number));
      this.#active -= 1;
      signal?.removeEventListener("abort", abort);
    }
  }

  /**
   * Stores a final result (its JSON, written here once) after the job's
   * `events` not appended yet, and announces it to the waiting API
   * instances, in one round trip; what it stored, undefined when the run was
   * final already.
   */
  async #finish(result: RunResult, events?: readonly WireEvent[]): Promise<SerializedResult | undefined> {
    const serialized = serializeResult(result);
    return (await this.#store.update(serialized, finishedChannel(this.#name), events)) ? serialized : undefined;
  }

  async #beat(): Promise<void> {
    const now = Date.now();
    await this.#redis
      .multi()
      .zadd(heartbeatKey(this.#name), now, this.#id)
      .zremrangebyscore(heartbeatKey(this.#name), "-inf", now - 60_000)
      .exec()
      .catch(() => {});
  }
}
