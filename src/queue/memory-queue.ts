import { EventEmitter } from "node:events";
import { parseResult, serializeResult, type SerializedResult } from "../run/result-json.js";
import { cancelledResult, failedResult, isFinal, pendingResult, type RunResult } from "../run/result.js";
import { BusyError } from "../errors.js";
import { PENDING_MAX_BYTES, RESULT_STORE_BYTES } from "../config/variables.js";
import { RESULT_MAX_BYTES } from "../run/limits.js";
import { statusEvent } from "../run/event-wire.js";
import type { QueueConfig } from "./config.js";
import { PriorityList } from "./priority-list.js";
import { ResultStore } from "./result-store.js";
import { MemoryEventLogs } from "./memory-events.js";
import { MemorySessionInputs } from "./memory-session-input.js";
import type { SessionInputReader, SessionInputWriter } from "./session-input.js";
import { eventLogCaps, RunEventWriter } from "./run-events.js";
import type { JobQueue, QueuedJob, QueueHealth, QueueWorker, RunHandler, WorkOptions } from "./types.js";
import { MemoryRateLimiter, type RateLimiter } from "./rate-limiter.js";
import { MemoryFunctionStore } from "./function-store.js";
import { MemoryRecordStore, type RecordStore } from "./record-store.js";

/**
 * The embedded queue: one process, no Redis. Jobs and results live in memory
 * (results as their JSON bytes, for `resultTtlSeconds`, at most `resultMax`
 * and `resultStoreBytes` of them: ResultStore); a restart loses them.
 * Warren's own failures are not retried here (BullMQ does that in distributed mode).
 */
export class MemoryQueue implements JobQueue {
  readonly kind = "memory";
  readonly #pending = new PriorityList<QueuedJob>();
  readonly #results: ResultStore;
  readonly #running = new Map<string, { readonly job: QueuedJob; readonly controller: AbortController }>();
  readonly #events = new EventEmitter();
  readonly #logs: MemoryEventLogs;
  /** Each job's event log cap (WARREN_RESULT_MAX_BYTES of output, and room for the rest). */
  readonly #eventCaps: ReturnType<typeof eventLogCaps>;
  readonly #workers = new Set<MemoryWorker>();
  readonly #limiter = new MemoryRateLimiter();
  readonly #inputs = new MemorySessionInputs();
  readonly functions: MemoryFunctionStore;
  readonly #records = new Map<string, MemoryRecordStore>();
  readonly #recordLimits: { ttlMs: number; max: number; maxBytes: number };
  /** The request bytes of the jobs waiting in #pending, bounded by #pendingMaxBytes. */
  #pendingBytes = 0;
  readonly #pendingMaxBytes: number;

  /** Tries for a job that Warren itself failed (a user's verdict is never retried), and the first delay (doubling). */
  readonly retry: { readonly attempts: number; readonly backoffMs: number };

  constructor(
    config: Pick<QueueConfig, "resultTtlSeconds" | "resultMax"> & Partial<Pick<QueueConfig, "attempts" | "backoffMs" | "resultStoreBytes" | "pendingMaxBytes" | "resultMaxBytes" | "functionMaxBytes" | "functionStoreBytes">>,
  ) {
    this.functions = new MemoryFunctionStore({
      ...(config.functionMaxBytes === undefined ? {} : { functionMaxBytes: config.functionMaxBytes }),
      ...(config.functionStoreBytes === undefined ? {} : { storeMaxBytes: config.functionStoreBytes }),
    });
    this.#pendingMaxBytes = config.pendingMaxBytes ?? PENDING_MAX_BYTES.default;
    const limits = { ttlMs: config.resultTtlSeconds * 1000, max: config.resultMax, maxBytes: config.resultStoreBytes ?? RESULT_STORE_BYTES.default };
    this.#results = new ResultStore(limits);
    this.#recordLimits = limits;
    this.#logs = new MemoryEventLogs(limits);
    this.#eventCaps = eventLogCaps(config.resultMaxBytes ?? RESULT_MAX_BYTES.default);
    this.retry = { attempts: config.attempts ?? 1, backoffMs: config.backoffMs ?? 1000 };
    this.#events.setMaxListeners(0);
  }

  records(name: string): RecordStore {
    let store = this.#records.get(name);
    if (store === undefined) {
      store = new MemoryRecordStore(this.#recordLimits);
      this.#records.set(name, store);
    }
    return store;
  }

  async enqueue(job: QueuedJob, priority: number): Promise<RunResult> {
    // The waiting jobs' requests live in this process's heap: a bound, so that
    // no sequence of requests can fill it. An empty queue takes any one job.
    const bytes = job.requestBytes ?? 0;
    if (this.#pending.size > 0 && this.#pendingBytes + bytes > this.#pendingMaxBytes) {
      throw new BusyError(
        `${this.#pending.size} runs (${Math.ceil(this.#pendingBytes / 2 ** 20)} MiB of requests) are waiting for a worker, the most this server holds (WARREN_PENDING_MAX_BYTES); retry shortly.`,
      );
    }
    this.#pendingBytes += bytes;
    const queued = pendingResult(job, "queued");
    this.#results.set(owned(serializeResult(queued), job.owner));
    this.#logs.append(job.id, [statusEvent("queued")]);
    this.#pending.push(job, priority);
    for (const worker of this.#workers) worker.pump();
    return queued;
  }

  get events(): MemoryEventLogs {
    return this.#logs;
  }

  openSessionInput(id: string): SessionInputWriter {
    return this.#inputs.writer(id);
  }

  /** Sessions whose stdin is open now (a client gone must leave none). */
  get openSessionInputs(): number {
    return this.#inputs.open;
  }

  /** @internal A session's stdin, for the worker that runs it. */
  sessionReader(id: string): SessionInputReader {
    return this.#inputs.reader(id);
  }

  async get(id: string): Promise<RunResult | undefined> {
    const stored = this.#results.get(id);
    return stored === undefined ? undefined : parseResult(stored.json);
  }

  async getSerialized(id: string): Promise<SerializedResult | undefined> {
    return this.#results.get(id);
  }

  rateLimiter(): RateLimiter {
    return this.#limiter;
  }

  async cancel(id: string, onCancelled?: (job: QueuedJob, result: SerializedResult) => void): Promise<SerializedResult | undefined> {
    const current = this.#results.get(id);
    if (current === undefined || isFinal(current.status)) return current;
    const running = this.#running.get(id);
    const waiting = this.#pending.take((queued) => queued.id === id);
    if (waiting !== undefined) this.#pendingBytes -= waiting.requestBytes ?? 0;
    const job = waiting ?? running?.job;
    running?.controller.abort();
    // A queued or running result is a small header: parsing it is cheap.
    const cancelled = owned(serializeResult(cancelledResult(parseResult(current.json))), current.owner);
    this.#finish(cancelled);
    if (job !== undefined) onCancelled?.(job, cancelled);
    return cancelled;
  }

  async onFinished(listener: (id: string, result?: SerializedResult) => void): Promise<() => void> {
    this.#events.on("finished", listener);
    return () => this.#events.off("finished", listener);
  }

  async depth(): Promise<number> {
    return this.#pending.size;
  }

  async health(): Promise<QueueHealth> {
    return { ok: true };
  }

  work(handler: RunHandler, options: WorkOptions): QueueWorker {
    const worker = new MemoryWorker(this, handler, options);
    this.#workers.add(worker);
    worker.pump();
    return worker;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#workers].map((worker) => worker.close(true)));
  }

  /** @internal The next job for a worker, marked running. */
  take(): { job: QueuedJob; signal: AbortSignal } | undefined {
    const job = this.#pending.shift();
    if (job === undefined) return undefined;
    this.#pendingBytes -= job.requestBytes ?? 0;
    const controller = new AbortController();
    this.#running.set(job.id, { job, controller });
    this.#results.set(owned(serializeResult(pendingResult(job, "running")), job.owner));
    this.#logs.append(job.id, [statusEvent("running")]);
    return { job, signal: controller.signal };
  }

  /** @internal Stores a job's final result unless it was cancelled meanwhile; what it stored, undefined when it did not. */
  complete(job: QueuedJob, result: RunResult): SerializedResult | undefined {
    this.#running.delete(job.id);
    const current = this.#results.get(job.id);
    if (current !== undefined && isFinal(current.status)) return undefined;
    const stored = owned(serializeResult(result), job.owner);
    this.#finish(stored);
    return stored;
  }

  /** @internal */
  detach(worker: MemoryWorker): void {
    this.#workers.delete(worker);
  }

  /** @internal The writer of a job's events into its log. */
  eventWriter(job: QueuedJob): RunEventWriter {
    return new RunEventWriter(this.#eventCaps, (events) => this.#logs.append(job.id, events));
  }

  #finish(result: SerializedResult): void {
    this.#results.set(result);
    // The final status is the log's last event: the event stream ends with it (and the result).
    this.#logs.append(result.id, [statusEvent(result.status)], true);
    this.#events.emit("finished", result.id, result);
  }
}

class MemoryWorker implements QueueWorker {
  readonly #queue: MemoryQueue;
  readonly #handler: RunHandler;
  readonly #options: WorkOptions;
  readonly #inflight = new Map<string, { promise: Promise<void>; abort: () => void }>();
  #closing = false;

  constructor(queue: MemoryQueue, handler: RunHandler, options: WorkOptions) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`Expected concurrency to be a positive integer, got ${options.concurrency}.`);
    }
    this.#queue = queue;
    this.#handler = handler;
    this.#options = options;
  }

  get active(): number {
    return this.#inflight.size;
  }

  /** Starts jobs while there are free slots and waiting jobs. */
  pump(): void {
    while (!this.#closing && this.#inflight.size < this.#options.concurrency) {
      const next = this.#queue.take();
      if (next === undefined) return;
      this.#start(next.job, next.signal);
    }
  }

  async close(force = false): Promise<void> {
    this.#closing = true;
    this.#queue.detach(this);
    // Embedded mode has no other worker to hand a job back to: force cancels instead.
    if (force) for (const { abort } of this.#inflight.values()) abort();
    await Promise.all([...this.#inflight.values()].map((entry) => entry.promise));
  }

  #start(job: QueuedJob, signal: AbortSignal): void {
    const local = new AbortController();
    const abort = () => local.abort();
    signal.addEventListener("abort", abort, { once: true });
    const { attempts, backoffMs } = this.#queue.retry;
    let settled = false;
    const events = this.#queue.eventWriter(job);
    const input = job.session === true ? this.#queue.sessionReader(job.id) : undefined;
    // A session's stdin was read by its first try: never tried again.
    const tries = job.session === true ? 1 : attempts;
    const finish = (result: RunResult) => {
      settled = true;
      events.close();
      signal.removeEventListener("abort", abort);
      const stored = this.#queue.complete(job, result);
      if (stored !== undefined) this.#options.onStored?.(job, stored);
    };
    const promise = (async () => {
      let result: RunResult;
      for (let attempt = 1; ; attempt++) {
        // A final result the handler has before its clean-up is stored at once (one that would be retried is not).
        const settle = (early: RunResult) => {
          if (!settled && !local.signal.aborted && (early.status !== "failed" || attempt >= tries)) finish(early);
        };
        try {
          result = await this.#handler(job, local.signal, settle, events.sink, input);
        } catch (error) {
          result = failedResult(job, { code: "worker_failed", message: (error as Error).message });
        }
        if (settled) return;
        // Only Warren's own faults are tried again, as BullMQ does in distributed mode.
        if (result.status !== "failed" || attempt >= tries || local.signal.aborted) break;
        await abortableSleep(backoffMs * 2 ** (attempt - 1), local.signal);
      }
      finish(local.signal.aborted ? cancelledResult(job) : result);
    })().finally(() => {
      void input?.close();
      this.#inflight.delete(job.id);
      this.pump();
    });
    this.#inflight.set(job.id, { promise, abort });
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** A stored result with the owner of its run (SerializedResult.owner). */
function owned(result: SerializedResult, owner: string | undefined): SerializedResult {
  return owner === undefined ? result : { ...result, owner };
}
