import { parseResult, type SerializedResult } from "../run/result-json.js";
import { isFinal, type RunResult } from "../run/result.js";
import type { JobQueue } from "./types.js";

/**
 * Waits until run `id` is final or `timeoutMs` passes; resolves with its
 * result as stored then (final or not), undefined when it is unknown.
 * `known`: its result as the caller just had it from the queue (enqueue's),
 * saving a read while it is not final.
 */
export async function waitForSerialized(queue: JobQueue, id: string, timeoutMs: number, known?: RunResult): Promise<SerializedResult | undefined> {
  // Read first: fails fast (503) when the store is down, and saves a subscription when done already.
  if (known === undefined || isFinal(known.status)) {
    const first = await queue.getSerialized(id);
    if (first === undefined || isFinal(first.status)) return first;
  }
  let wake: () => void = () => {};
  const finished = new Promise<void>((resolve) => (wake = resolve));
  const unsubscribe = await queue.onFinished((finishedId) => {
    if (finishedId === id) wake();
  });
  const timer = setTimeout(wake, timeoutMs);
  try {
    // Subscribed: now a finish cannot slip between the read and the wait.
    const current = await queue.getSerialized(id);
    if (current === undefined || isFinal(current.status)) return current;
    await finished;
    return await queue.getSerialized(id);
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}

/** waitForSerialized, parsed: for callers that need the RunResult object. */
export async function waitForResult(queue: JobQueue, id: string, timeoutMs: number, known?: RunResult): Promise<RunResult | undefined> {
  const stored = await waitForSerialized(queue, id, timeoutMs, known);
  return stored === undefined ? undefined : parseResult(stored.json);
}
