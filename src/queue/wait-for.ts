import type { RunResult } from "../worker/run-result.js";
import { isFinal } from "./run-status.js";
import type { JobQueue } from "./types.js";

/**
 * Waits until run `id` is final or `timeoutMs` passes; resolves with its
 * RunResult then (final or not), undefined when it is unknown. `known`: its
 * result as the caller just had it from the queue (enqueue's), saving a read.
 */
export async function waitForResult(queue: JobQueue, id: string, timeoutMs: number, known?: RunResult): Promise<RunResult | undefined> {
  // Read first: fails fast (503) when the store is down, and saves a subscription when done already.
  const first = known ?? (await queue.get(id));
  if (first === undefined || isFinal(first.status)) return first;
  let wake: () => void = () => {};
  const finished = new Promise<void>((resolve) => (wake = resolve));
  const unsubscribe = await queue.onFinished((finishedId) => {
    if (finishedId === id) wake();
  });
  const timer = setTimeout(wake, timeoutMs);
  try {
    // Subscribed: now a finish cannot slip between the read and the wait.
    const current = await queue.get(id);
    if (current === undefined || isFinal(current.status)) return current;
    await finished;
    return await queue.get(id);
  } finally {
    clearTimeout(timer);
    unsubscribe();
  }
}
