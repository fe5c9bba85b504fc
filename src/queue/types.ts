import type { RateLimiter } from "./rate-limiter.js";
import type { RunRequest } from "../run/request.js";
import type { FunctionJob, FunctionJobHeader } from "../run/function-wire.js";
import type { FunctionStore } from "./function-store.js";
import type { SerializedResult } from "../run/result-json.js";
import type { RunResult } from "../run/result.js";
import type { JobEventSink } from "../run/events.js";
import type { RunEventLogs } from "./run-events.js";
import type { SessionInputReader, SessionInputWriter } from "./session-input.js";
import type { WarmVersion } from "./warm-routes.js";
import type { RecordStore } from "./record-store.js";

/** What the queue carries: the validated wire request and what the result's header says. */
export interface QueuedJob {
  readonly id: string;
  readonly language: string;
  readonly version: string;
  /** The request as the API validated it; the worker validates it again (it crossed a process boundary). Absent for a function job (`fn`). */
  readonly request?: RunRequest;
  /** A function job (docs/api-extensions.md, *Functions*): a deploy's trial, or an invocation. */
  readonly fn?: FunctionJob;
  /** A function job's header, kept in each of its results (RunResult.function). */
  readonly function?: FunctionJobHeader;
  /** The size of the request's body: what holding the job costs until a worker takes it (WARREN_PENDING_MAX_BYTES). */
  readonly requestBytes?: number;
  /** Who may read the run's events when the API has keys: a digest of the submitting key (never the key). */
  readonly owner?: string;
  /**
   * A session (GET /v1/sessions): its run stage's stdin is streamed from the
   * API's client (session-input.ts). Never retried: its stdin was read.
   */
  readonly session?: boolean;
}

/** Where a job's result is POSTed when it is final, if anywhere: a run's callbackUrl, or an invocation's. */
export function callbackUrlOf(job: QueuedJob): string | undefined {
  return job.request?.callbackUrl ?? (job.fn?.kind === "invoke" ? job.fn.callbackUrl : undefined);
}

/**
 * Runs one job; `signal` fires when the job is cancelled. Resolves with the
 * result (never rejects for user code). The handler may call `settle` with the
 * result as soon as it has it, before its own clean-up (the container's
 * teardown): the queue then stores it at once, so waiters get it sooner, and
 * ignores what the handler resolves with; the job keeps its slot until the
 * handler resolves. A result that would be retried is not stored early.
 * `events` is the job's event channel (runJob's onEvent): the queue appends
 * them to the run's event log, within its cap, before it stores the result.
 * `input` is a session's stdin (job.session); the queue closes it once the
 * handler has resolved, and the handler may close it sooner.
 */
export type RunHandler = (job: QueuedJob, signal: AbortSignal, settle: (result: RunResult) => void, events: JobEventSink, input?: SessionInputReader) => Promise<RunResult>;

export interface WorkOptions {
  /** Jobs run at once by this worker. */
  readonly concurrency: number;
  /** The worker's id (its heartbeat's; reported with each invocation); default a random UUID. */
  readonly id?: string;
  /**
   * The function versions this worker holds prepared (warm) containers for
   * (FunctionRuntime.warmVersions): given, a distributed worker advertises
   * them and takes the invocations routed to it on a queue of its own
   * (docs/functions.md, *Distributed: warm routing*). Must not throw.
   */
  readonly warm?: () => readonly WarmVersion[];
  /** Called after a job's final result is stored (webhooks), with the bytes stored. Must not throw. */
  readonly onStored?: (job: QueuedJob, result: SerializedResult) => void;
}

/** A worker attached to a queue. */
export interface QueueWorker {
  /** Jobs this worker runs now. */
  readonly active: number;
  /**
   * Stops taking jobs and waits for the running ones; with `force`, hands
   * them back instead (BullMQ: they stall and another worker takes them).
   */
  close(force?: boolean): Promise<void>;
}

export interface QueueHealth {
  readonly ok: boolean;
  /** Why not, for /readyz. */
  readonly reason?: string;
}

/**
 * The one queue interface (embedded in-process, or BullMQ on Redis). Every
 * method that reads or writes shared state rejects with QueueUnavailableError
 * when the backing store does not answer.
 */
export interface JobQueue {
  readonly kind: "memory" | "bullmq";
  /** The runs' event logs (GET /v1/runs/:id/events): status changes, and what workers report as jobs go. */
  readonly events: RunEventLogs;
  /** Deployed functions' versions and code (in memory, or in Redis where every worker reads them). */
  readonly functions: FunctionStore;
  /**
   * The stdin of session `id` (a job queued with `session`), for the API to
   * write what its client sends: open it before the job is queued (a worker
   * may take the job at once), close it when the session ends.
   */
  openSessionInput(id: string): SessionInputWriter;
  /**
   * Small JSON records of namespace `name` (a compatible API's own fields of
   * its runs: docs/compat.md), bounded like the results (WARREN_RESULT_TTL_S,
   * WARREN_RESULT_MAX, WARREN_RESULT_STORE_BYTES), in memory or in Redis.
   */
  records(name: string): RecordStore;
  /** Queues a job (priority: 1 runs first) and stores its `queued` RunResult, which it returns. */
  enqueue(job: QueuedJob, priority: number): Promise<RunResult>;
  /**
   * The job's current RunResult, parsed from what is stored; undefined when
   * unknown or expired. For callers that need the object: answers send
   * getSerialized's bytes as they are.
   */
  get(id: string): Promise<RunResult | undefined>;
  /** The job's current RunResult as stored: its JSON bytes and status; undefined when unknown or expired. */
  getSerialized(id: string): Promise<SerializedResult | undefined>;
  /**
   * Cancels a job: a queued one is removed, a running one is killed at once.
   * Resolves with its RunResult as stored (a finished job's is left as it
   * was), undefined when unknown. `onCancelled` is called with the job when
   * this cancel stored its final result, queued or running: no worker will
   * report it then (its store comes second and fails), so its webhook is the
   * caller's to send.
   */
  cancel(id: string, onCancelled?: (job: QueuedJob, result: SerializedResult) => void): Promise<SerializedResult | undefined>;
  /**
   * Calls `listener` with the id of every job that reaches a final status,
   * and its final result when the announcement carried it (embedded: always;
   * distributed: a result up to ANNOUNCED_RESULT_MAX_BYTES stored by a
   * worker, never a cancel's); returns the unsubscribe function.
   */
  onFinished(listener: (id: string, result?: SerializedResult) => void): Promise<() => void>;
  /** Jobs waiting to run. */
  depth(): Promise<number>;
  health(): Promise<QueueHealth>;
  /** Counts API requests per key where every API instance on this queue sees the same counts. */
  rateLimiter(): RateLimiter;
  /** Starts a worker on this queue. */
  work(handler: RunHandler, options: WorkOptions): QueueWorker;
  /** Closes the connections (workers first: close them before). */
  close(): Promise<void>;
}
