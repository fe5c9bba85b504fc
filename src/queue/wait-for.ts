import { parseResult, type SerializedResult } from "../run/result-json.js";
import { isFinal, type RunResult } from "../run/result.js";
import type { JobQueue, QueuedJob } from "./types.js";

/** A watch on one run's end, begun before the run was queued: nothing the run does can slip past it. */
export interface FinishWatch {
  /**
   * Waits until the run is final or `timeoutMs` passes; resolves with its
   * result (final or not), undefined when it is unknown. `known`: its result
   * as the caller had it from the queue after this watch began (enqueue's):
   * until the run's end is announced no read is needed then, and an end
   * announced with its result needs none either.
   */
  wait(timeoutMs: number, known?: RunResult): Promise<SerializedResult | undefined>;
  /** Ends the watch (always: a client that went away must leave no listener behind); a wait still pending resolves (undefined, unless the end came). */
  close(): void;
}

/**
 * Watches run `id`'s end. Call it before the run is queued, so that the
 * announcement of its end cannot come before the watch (distributed: the
 * queue's subscription is set up once, so this is no round trip after the
 * first).
 */
export async function watchFinished(queue: JobQueue, id: string): Promise<FinishWatch> {
  let finished = false;
  let closed = false;
  let announced: SerializedResult | undefined;
  let wake: () => void = () => {};
  const unsubscribe = await queue.onFinished((finishedId, result) => {
    if (finishedId !== id) return;
    finished = true;
    announced = result;
    wake();
  });
  return {
    async wait(timeoutMs, known) {
      if (!finished && (known === undefined || isFinal(known.status))) {
        // Nothing known of the run since the watch began: read it (fails fast, 503, when the store is down).
        const current = await queue.getSerialized(id);
        if (current === undefined || isFinal(current.status)) return current;
      }
      if (!finished && !closed) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, timeoutMs);
        });
        clearTimeout(timer);
      }
      // Announced without its result (a large one, a cancel), or not announced at all (the wait's end): read back.
      return announced ?? (closed ? undefined : await queue.getSerialized(id));
    },
    close() {
      closed = true;
      unsubscribe();
      // A wait still pending (its caller gave up on it) ends now rather than at its timeout.
      wake();
    },
  };
}

/**
 * Queues `job` watched from before its enqueue (watchFinished), for a caller
 * that waits for it: `known` is what to pass to the watch's wait — enqueue's
 * result when the watch was in place before the enqueue was answered (the
 * queue's subscription was up: no read is needed), else undefined (the first
 * subscription is made with this enqueue: the wait reads once after it). An
 * enqueue that fails fails at once, whatever the subscription does (Redis
 * down: 503, not a wait for the subscriber), and its watch is closed.
 */
export async function enqueueWatched(queue: JobQueue, job: QueuedJob, priority: number): Promise<{ queued: RunResult; watch: FinishWatch; known: RunResult | undefined }> {
  let watchedFirst = false;
  const watching = watchFinished(queue, job.id);
  watching.then(
    () => (watchedFirst = true),
    () => {},
  );
  let queued: RunResult;
  try {
    queued = await queue.enqueue(job, priority);
  } catch (error) {
    watching.then(
      (watch) => watch.close(),
      () => {},
    );
    throw error;
  }
  const known = watchedFirst ? queued : undefined;
  return { queued, watch: await watching, known };
}

/**
 * Waits until run `id` is final or `timeoutMs` passes; resolves with its
 * result as stored then (final or not), undefined when it is unknown.
 * `known`: its result as the caller just had it from the queue (enqueue's),
 * saving a read while it is not final. For a run queued before the wait: one
 * the caller queues is better watched from before its enqueue (watchFinished).
 */
export async function waitForSerialized(queue: JobQueue, id: string, timeoutMs: number, known?: RunResult): Promise<SerializedResult | undefined> {
  // Read first: fails fast (503) when the store is down, and saves a subscription when done already.
  if (known === undefined || isFinal(known.status)) {
    const first = await queue.getSerialized(id);
    if (first === undefined || isFinal(first.status)) return first;
  }
  const watch = await watchFinished(queue, id);
  try {
    // Watched now: a finish cannot slip between this read and the wait.
    return await watch.wait(timeoutMs);
  } finally {
    watch.close();
  }
}

/** waitForSerialized, parsed: for callers that need the RunResult object. */
export async function waitForResult(queue: JobQueue, id: string, timeoutMs: number, known?: RunResult): Promise<RunResult | undefined> {
  const stored = await waitForSerialized(queue, id, timeoutMs, known);
  return stored === undefined ? undefined : parseResult(stored.json);
}
