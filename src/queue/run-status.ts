import type { RunResult, RunStatus } from "../run/result.js";
import type { QueuedJob } from "./types.js";

/** Statuses after which a run never changes again. */
export function isFinal(status: RunStatus): boolean {
  return status === "completed" || status === "cancelled" || status === "failed";
}

/** A RunResult with no stages yet, in `status`. */
export function pendingResult(job: QueuedJob, status: "queued" | "running" | "cancelled"): RunResult {
  return { id: job.id, status, language: job.language, version: job.version, verdict: null, compile: null, run: null, tests: null };
}
