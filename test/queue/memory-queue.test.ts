import { describe, expect, it } from "vitest";
import { queueConfig } from "../../src/queue/config.js";
import { waitForResult, type QueuedJob } from "../../src/queue/index.js";
import { pendingResult } from "../../src/run/result.js";
import { MemoryQueue } from "../../src/queue/memory-queue.js";
import { queueContract } from "./queue.case.js";

queueContract("in-process", async (env = {}) => new MemoryQueue(queueConfig(env)));

describe("in-process queue retries", () => {
  it("tries a job Warren failed again (with backoff), never one with a user's verdict", async () => {
    const queue = new MemoryQueue({ ...queueConfig({}), attempts: 3, backoffMs: 10 });
    const calls = new Map<string, number>();
    const worker = queue.work(async (job) => {
      const n = (calls.get(job.id) ?? 0) + 1;
      calls.set(job.id, n);
      const base = { ...pendingResult(job, "running"), compile: null, run: null, tests: null };
      if (job.id === "flaky" && n < 2) return { ...base, status: "failed", verdict: "internal_error" };
      if (job.id === "user") return { ...base, status: "completed", verdict: "runtime_error" };
      return { ...base, status: "completed", verdict: "accepted" };
    }, { concurrency: 1 });
    try {
      for (const id of ["flaky", "user"]) await queue.enqueue({ id, language: "python", version: "3", request: {} as QueuedJob["request"] }, 100);
      const results = await Promise.all(["flaky", "user"].map((id) => waitForResult(queue, id, 10_000)));
      expect(results.map((r) => r?.verdict)).toEqual(["accepted", "runtime_error"]);
      expect(Object.fromEntries(calls)).toEqual({ flaky: 2, user: 1 });
    } finally {
      await worker.close();
      await queue.close();
    }
  });
});
