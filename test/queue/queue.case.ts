import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runRequestSchema } from "../../src/run/request.js";
import type { JobQueue, QueuedJob, QueueWorker, RunHandler } from "../../src/queue/index.js";
import { waitForResult, watchFinished } from "../../src/queue/index.js";
import { MAX_LIMITS } from "../../src/run/limits.js";
import { jsonBuffer } from "../../src/run/json-chunks.js";
import { parseResult } from "../../src/run/result-json.js";
import type { RunResult } from "../../src/run/result.js";
import { deferred, eventually } from "../helpers/eventually.js";

/** Opens a fresh, empty queue (its own name) for one test, with these settings (queueConfig's variables). */
export type OpenQueue = (env?: NodeJS.ProcessEnv) => Promise<JobQueue>;

export function newJob(text = "hi"): QueuedJob {
  const request = runRequestSchema(MAX_LIMITS).parse({ language: "python", files: [{ path: "main.py", content: `print(${JSON.stringify(text)})` }] });
  return { id: randomUUID(), language: "python", version: "3", request };
}

export function completed(job: QueuedJob, stdout = ""): RunResult {
  const run = { status: "ok" as const, exitCode: 0, signal: null, stdout, stderr: "", stdoutTruncated: false, stderrTruncated: false, cpuTimeMs: 1, wallTimeMs: 1, memoryKb: 1 };
  return { id: job.id, status: "completed", language: job.language, version: job.version, verdict: "accepted", compile: null, run, tests: null };
}

/** The contract every JobQueue backend meets (run against the in-process queue and BullMQ on a real Redis). */
export function queueContract(name: string, open: OpenQueue): void {
  describe(`JobQueue contract: ${name}`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const setUp = async (env?: NodeJS.ProcessEnv) => {
      const queue = await open(env);
      cleanups.push(() => queue.close());
      return queue;
    };
    const work = (queue: JobQueue, handler: RunHandler, concurrency = 1): QueueWorker => {
      const worker = queue.work(handler, { concurrency });
      cleanups.push(() => worker.close(true));
      return worker;
    };

    it("queues a job, runs it, and stores its result", async () => {
      const queue = await setUp();
      const job = newJob();
      const queued = await queue.enqueue(job, 100);
      expect(queued).toMatchObject({ id: job.id, status: "queued", verdict: null, language: "python" });
      expect((await queue.get(job.id))?.status).toBe("queued");
      const finished: string[] = [];
      await queue.onFinished((id) => finished.push(id));
      const seen: QueuedJob[] = [];
      work(queue, async (running) => {
        seen.push(running);
        return completed(running, "hi\n");
      });
      const result = await waitForResult(queue, job.id, 20_000);
      expect(result).toMatchObject({ id: job.id, status: "completed", verdict: "accepted", run: { stdout: "hi\n" } });
      expect(seen.map((j) => j.id)).toEqual([job.id]);
      expect(seen[0]?.request?.files[0]?.content).toBe('print("hi")');
      await eventually("the finished event", () => (finished.includes(job.id) ? true : undefined));
    });

    it("stores a result as its JSON bytes: getSerialized gives them as written, get() the object", async () => {
      const queue = await setUp();
      const job = newJob();
      // what is hard to store: control characters, invalid UTF-8 decoded as U+FFFD, astral characters, lone surrogates
      const result = completed(job, "\u0000\u001f\"\\\uFFFD😀\ud800 end");
      work(queue, async () => result);
      await queue.enqueue(job, 100);
      expect(await waitForResult(queue, job.id, 20_000)).toEqual(result);
      const stored = await queue.getSerialized(job.id);
      expect(stored).toMatchObject({ id: job.id, status: "completed" });
      expect(stored?.json.equals(jsonBuffer(result))).toBe(true);
      expect(stored?.json.toString()).toBe(JSON.stringify(result));
    });

    it("keeps finished results within WARREN_RESULT_STORE_BYTES, oldest first, never a running one nor the one just stored", async () => {
      const queue = await setUp({ WARREN_RESULT_STORE_BYTES: String(1024 * 1024) });
      const held = newJob("held");
      const release = deferred();
      const sizes = new Map<string, number>();
      work(
        queue,
        async (running) => {
          if (running.id === held.id) await release.promise;
          return completed(running, "x".repeat(sizes.get(running.id) ?? 0));
        },
        2,
      );
      await queue.enqueue(held, 100);
      cleanups.push(async () => release.resolve()); // runs before the worker's close, even when an expectation fails
      await eventually("the held job to run", async () => ((await queue.get(held.id))?.status === "running" ? true : undefined));
      const finish = async (bytes: number) => {
        const job = newJob();
        sizes.set(job.id, bytes);
        await queue.enqueue(job, 100);
        expect((await waitForResult(queue, job.id, 20_000))?.status).toBe("completed");
        return job.id;
      };
      const [a, b, c] = [await finish(400 * 1024), await finish(400 * 1024), await finish(400 * 1024)];
      // 1.2 MiB of results against 1 MiB: the oldest goes
      expect(await queue.getSerialized(a)).toBeUndefined();
      for (const id of [b, c]) expect((await queue.getSerialized(id))?.json.length).toBeGreaterThan(400 * 1024);
      // larger than the cap alone: kept; everything finished before it goes
      const d = await finish(1536 * 1024);
      expect((await queue.getSerialized(d))?.status).toBe("completed");
      for (const id of [b, c]) expect(await queue.getSerialized(id)).toBeUndefined();
      // the running job was never evicted
      expect((await queue.get(held.id))?.status).toBe("running");
      release.resolve();
      expect((await waitForResult(queue, held.id, 20_000))?.status).toBe("completed");
    });

    it("answers undefined for an unknown id", async () => {
      const queue = await setUp();
      expect(await queue.get(randomUUID())).toBeUndefined();
      expect(await queue.getSerialized(randomUUID())).toBeUndefined();
      expect(await queue.cancel(randomUUID())).toBeUndefined();
    });

    it("runs waiting jobs by priority, then in order", async () => {
      const queue = await setUp();
      const jobs = [newJob("a"), newJob("b"), newJob("c"), newJob("d")];
      const priorities = [50, 10, 50, 1];
      for (const [index, job] of jobs.entries()) await queue.enqueue(job, priorities[index] as number);
      expect(await queue.depth()).toBe(4);
      const order: string[] = [];
      work(queue, async (job) => {
        order.push(job.id);
        return completed(job);
      });
      for (const job of jobs) expect((await waitForResult(queue, job.id, 20_000))?.status).toBe("completed");
      expect(order).toEqual([jobs[3], jobs[1], jobs[0], jobs[2]].map((job) => job?.id));
      expect(await queue.depth()).toBe(0);
    });

    it("cancels a queued job: it never runs", async () => {
      const queue = await setUp();
      const job = newJob();
      await queue.enqueue(job, 100);
      const told: string[] = [];
      const cancelled = await queue.cancel(job.id, (removed, result) => told.push(`${removed.id} ${result.status}`));
      expect(cancelled).toMatchObject({ id: job.id, status: "cancelled" });
      expect(cancelled && parseResult(cancelled.json)).toMatchObject({ id: job.id, status: "cancelled", verdict: null });
      expect((await queue.get(job.id))?.status).toBe("cancelled");
      // no worker took it: the caller is told, with the job (its webhook is the caller's to send)
      expect(told).toEqual([`${job.id} cancelled`]);
      const ran: string[] = [];
      const marker = newJob();
      await queue.enqueue(marker, 100);
      work(queue, async (running) => {
        ran.push(running.id);
        return completed(running);
      });
      expect((await waitForResult(queue, marker.id, 20_000))?.status).toBe("completed");
      expect(ran).toEqual([marker.id]);
      expect(await queue.depth()).toBe(0);
    });

    it("cancels a running job: its signal fires and the result stays cancelled", async () => {
      const queue = await setUp();
      const job = newJob();
      const started = deferred();
      const aborted = deferred();
      work(queue, async (running, signal) => {
        if (running.id !== job.id) return completed(running);
        started.resolve();
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
        aborted.resolve();
        return completed(running, "too late");
      });
      await queue.enqueue(job, 100);
      await started.promise;
      expect((await queue.get(job.id))?.status).toBe("running");
      const told: string[] = [];
      expect((await queue.cancel(job.id, (removed) => told.push(removed.id)))?.status).toBe("cancelled");
      await aborted.promise;
      // the cancel stored the final result, so the worker's store fails: the caller is told, once
      expect(told).toEqual([job.id]);
      const next = newJob();
      await queue.enqueue(next, 100);
      // The worker has moved on, so the cancelled job's late result has been dealt with.
      expect((await waitForResult(queue, next.id, 20_000))?.status).toBe("completed");
      expect(await queue.get(job.id)).toMatchObject({ status: "cancelled", verdict: null, run: null });
    });

    it("stores a result settled before the handler's clean-up at once; the job keeps its slot until the handler resolves", async () => {
      const queue = await setUp();
      const cleanup = deferred();
      work(queue, async (running, _signal, settle) => {
        const result = completed(running, "early");
        settle(result);
        await cleanup.promise;
        return result;
      });
      const job = newJob();
      await queue.enqueue(job, 100);
      expect(await waitForResult(queue, job.id, 20_000)).toMatchObject({ status: "completed", run: { stdout: "early" } });
      const next = newJob();
      await queue.enqueue(next, 100);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect((await queue.get(next.id))?.status).toBe("queued");
      cleanup.resolve();
      expect((await waitForResult(queue, next.id, 20_000))?.status).toBe("completed");
    });

    it("leaves a finished job as it is on cancel", async () => {
      const queue = await setUp();
      const job = newJob();
      work(queue, async (running) => completed(running));
      await queue.enqueue(job, 100);
      expect((await waitForResult(queue, job.id, 20_000))?.status).toBe("completed");
      expect((await queue.cancel(job.id))?.status).toBe("completed");
    });

    it("runs at most `concurrency` jobs at once, and that many in parallel", async () => {
      const queue = await setUp();
      let running = 0;
      let peak = 0;
      const bothStarted = deferred();
      work(
        queue,
        async (job) => {
          running += 1;
          peak = Math.max(peak, running);
          if (running === 2) bothStarted.resolve();
          await bothStarted.promise;
          running -= 1;
          return completed(job);
        },
        2,
      );
      const jobs = Array.from({ length: 6 }, () => newJob());
      for (const job of jobs) await queue.enqueue(job, 100);
      for (const job of jobs) expect((await waitForResult(queue, job.id, 20_000))?.status).toBe("completed");
      expect(peak).toBe(2);
    });

    it("returns the current result when the wait runs out", async () => {
      const queue = await setUp();
      const job = newJob();
      await queue.enqueue(job, 100);
      expect((await waitForResult(queue, job.id, 50))?.status).toBe("queued");
    });

    it("a run watched from before its enqueue: its end comes with its result, read back by nobody (small), its owner kept", async () => {
      const queue = await setUp();
      const job = { ...newJob(), owner: "owner-digest" };
      const result = completed(job, "hi\n");
      work(queue, async () => result);
      const watch = await watchFinished(queue, job.id);
      const queued = await queue.enqueue(job, 100);
      const reads = vi.spyOn(queue, "getSerialized");
      try {
        const stored = await watch.wait(20_000, queued);
        expect(stored).toMatchObject({ id: job.id, status: "completed", owner: "owner-digest" });
        expect(stored?.json.equals(jsonBuffer(result))).toBe(true);
        expect(reads).not.toHaveBeenCalled();
      } finally {
        watch.close();
        reads.mockRestore();
      }
    });

    it("a run watched from before its enqueue: a large result, a cancel and the wait's end are read back", async () => {
      const queue = await setUp();
      // larger than an announcement carries (ANNOUNCED_RESULT_MAX_BYTES)
      const large = newJob();
      const result = completed(large, "x".repeat(64 * 1024));
      const release = deferred();
      work(queue, async (running) => (running.id === large.id ? result : (await release.promise, completed(running))));
      const watch = await watchFinished(queue, large.id);
      const stored = await watch.wait(20_000, await queue.enqueue(large, 100));
      watch.close();
      expect(stored?.json.equals(jsonBuffer(result))).toBe(true);

      const held = newJob();
      const heldWatch = await watchFinished(queue, held.id);
      const queued = await queue.enqueue(held, 100);
      expect((await heldWatch.wait(50, queued))?.status).not.toMatch(/completed|failed|cancelled/); // the wait's end: as it is now
      const cancelled = heldWatch.wait(20_000, queued);
      await queue.cancel(held.id);
      expect(await cancelled).toMatchObject({ id: held.id, status: "cancelled" });
      heldWatch.close();
      release.resolve();
    });

    it("a watch closed while its wait is pending ends the wait at once", async () => {
      const queue = await setUp();
      const job = newJob();
      const watch = await watchFinished(queue, job.id);
      const queued = await queue.enqueue(job, 100);
      const waiting = watch.wait(600_000, queued);
      watch.close();
      expect(await waiting).toBeUndefined();
    });

    it("finishes the running job before a worker closes", async () => {
      const queue = await setUp();
      const job = newJob();
      const started = deferred();
      const release = deferred();
      const worker = work(queue, async (running) => {
        started.resolve();
        await release.promise;
        return completed(running);
      });
      await queue.enqueue(job, 100);
      await started.promise;
      expect(worker.active).toBe(1);
      const closed = worker.close();
      release.resolve();
      await closed;
      expect((await queue.get(job.id))?.status).toBe("completed");
    });

    it("marks a job failed when its handler throws", async () => {
      const queue = await setUp();
      const job = newJob();
      work(queue, async () => {
        throw new Error("handler bug");
      });
      await queue.enqueue(job, 100);
      const result = await eventually("a failed result", async () => {
        const current = await queue.get(job.id);
        return current?.status === "failed" ? current : undefined;
      });
      expect(result).toMatchObject({ verdict: "internal_error", error: { message: expect.stringContaining("handler bug") } });
    });
  });
}
