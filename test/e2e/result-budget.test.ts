/*
 * Finding 1 of the security review (SECURITY.md): a client could kill the
 * server with requests inside the limits. A C program writing 64 MiB to
 * stdout (outputKb 65536, the maximum) in each of 9 tests made every
 * ?wait=true answer 500 (JSON.stringify: Invalid string length), grew the heap
 * ~600 MB per request, and the sixth request ended the process (API, embedded
 * worker and every run in flight) with "Reached heap limit".
 *
 * Here a real `warren serve` with a small heap (512 MB, so a regression dies
 * quickly) takes many such maximal requests, in sequence and in parallel, one
 * of them all control characters and invalid UTF-8 (the worst case for JSON
 * escaping), and must answer every one with its result, within the result
 * budget, and stay alive with a bounded RSS. The same against the code before
 * the fix (WARREN_PROOF_CHECKOUT=<a checkout of db66446>) fails at the first request.
 */
import fs from "node:fs";
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runResultSchema } from "../../src/run/result-schema.js";
import { freePort, startRedis, type TestRedis } from "../helpers/redis-server.js";
import { stop, until200, warren } from "./processes.js";

/** Which checkout of Warren to run: this one, or another (an older commit, to see the test fail there). */
const CHECKOUT = process.env.WARREN_PROOF_CHECKOUT || undefined;
const MIB = 1024 * 1024;
const OUTPUT = 64 * MIB;
/** WARREN_RESULT_MAX_BYTES's default. */
const BUDGET = 16 * MIB;
/** What the server's RSS must stay under: the Node heap is capped at 512 MB, results are Buffers kept within WARREN_RESULT_STORE_BYTES (256 MiB), and two runs at once each hold their output budget. */
const RSS_BOUND = 1024 * MIB;

/**
 * stdin "A B MODE": writes exactly 64 MiB to stdout. MODE 0: the sum, then
 * blank padding; 1: blank padding, then the sum as the very last bytes (far
 * past what the result keeps: the checker must read the whole output); 2: only
 * control characters and invalid UTF-8 (each escaped to 6 bytes of JSON, or
 * decoded to U+FFFD).
 */
const FLOOD = `#include <stdio.h>
#define TOTAL (64L * 1024 * 1024)
static char block[1 << 16];
int main(void) {
  long a, b; int mode;
  if (scanf("%ld %ld %d", &a, &b, &mode) != 3) return 3;
  char answer[32];
  int n = snprintf(answer, sizeof answer, "%ld\\n", a + b);
  for (size_t i = 0; i < sizeof block; i++) {
    if (mode == 2) block[i] = (char)(i % 2 ? 0x80 + i % 64 : 1 + i % 7);
    else block[i] = i % 80 == 79 ? '\\n' : ' ';
  }
  long left = TOTAL;
  if (mode == 0) { fwrite(answer, 1, n, stdout); left -= n; }
  long pad = mode == 1 ? left - n : left;
  while (pad > 0) { long k = pad < (long)sizeof block ? pad : (long)sizeof block; fwrite(block, 1, k, stdout); pad -= k; }
  if (mode == 1) fwrite(answer, 1, n, stdout);
  return 0;
}
`;

interface Case {
  readonly stdin: string;
  readonly expectedOutput?: string;
  readonly verdict: string;
}
/** 9 tests of 64 MiB each: the answer first, the answer last, and a wrong answer last. */
const JUDGED: readonly Case[] = [
  ...Array.from({ length: 3 }, (_, i) => ({ stdin: `${i} 2 0`, expectedOutput: `${i + 2}\n`, verdict: "accepted" })),
  ...Array.from({ length: 3 }, (_, i) => ({ stdin: `${i} 3 1`, expectedOutput: `${i + 3}\n`, verdict: "accepted" })),
  ...Array.from({ length: 3 }, (_, i) => ({ stdin: `${i} 4 1`, expectedOutput: `${i + 5}\n`, verdict: "wrong_answer" })),
];
/** 9 tests of 64 MiB of control characters and invalid UTF-8. */
const HOSTILE: readonly Case[] = Array.from({ length: 9 }, () => ({ stdin: "0 0 2", verdict: "accepted" }));

const body = (cases: readonly Case[], extra: Record<string, unknown> = {}) => ({
  language: "c",
  files: [{ path: "main.c", content: FLOOD }],
  limits: { outputKb: OUTPUT / 1024, wallTimeMs: 30_000, cpuTimeMs: 20_000 },
  checker: { kind: "tokens" },
  tests: cases.map((test, index) => ({ name: String(index + 1), stdin: test.stdin, ...(test.expectedOutput === undefined ? {} : { expectedOutput: test.expectedOutput }) })),
  ...extra,
});

type Warren = ReturnType<typeof warren>;

/** Rejects when one of `processes` exits, with the end of its log (a server killed by its heap limit says so there). */
function exitOf(processes: readonly Warren[]): Promise<never> {
  return new Promise((_, reject) => {
    for (const { child, log } of processes) {
      const died = () => reject(new Error(`warren (pid ${child.pid}) exited (code ${child.exitCode}, signal ${child.signalCode}) while requests were in flight. Its log ends:\n${log().slice(-3_000)}`));
      if (child.exitCode !== null || child.signalCode !== null) died();
      else child.once("exit", died);
    }
  });
}

/** POSTs with ?wait=true; the answer's status and body. Fails at once when a Warren process of the test dies. */
async function submit(base: string, request: unknown, processes: readonly Warren[]): Promise<{ status: number; text: string }> {
  const answered = (async () => {
    try {
      const response = await fetch(`${base}/v1/runs?wait=true`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(request) });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      // a connection cut by a dying server: say why it died
      await Promise.race([exitOf(processes), new Promise((resolve) => setTimeout(resolve, 2_000))]);
      throw error;
    }
  })();
  return Promise.race([answered, exitOf(processes)]);
}

/** Checks one answer: 200, JSON that parses, the verdicts, the kept output within the budget, outputOmitted where output was dropped. */
function checkAnswer(answer: { status: number; text: string }, cases: readonly Case[], keepOutput: "all" | "failed" = "all") {
  expect(answer.status, answer.text.slice(0, 500)).toBe(200);
  const result = runResultSchema.parse(JSON.parse(answer.text));
  expect(result.status).toBe("completed");
  expect(result.tests?.map((test) => test.verdict)).toEqual(cases.map((test) => test.verdict));
  expect(result.verdict).toBe(cases.find((test) => test.verdict !== "accepted")?.verdict ?? "accepted");
  let kept = Buffer.byteLength(result.compile?.stdout ?? "") + Buffer.byteLength(result.compile?.stderr ?? "");
  for (const test of result.tests ?? []) {
    expect(test.status).toBe("ok");
    const omitted = test.outputOmitted;
    // 64 MiB arrived; what the result lacks is counted, and the stream no longer claims to be complete
    expect(omitted, `test ${test.name}`).toBeDefined();
    expect(omitted?.reason).toBe(keepOutput === "failed" && test.verdict === "accepted" ? "keep_output" : "result_budget");
    expect(test.stdoutTruncated).toBe(true);
    const keptBytes = OUTPUT - (omitted?.stdoutBytes ?? 0);
    if (test.stdout.includes("\uFFFD")) expect(test.stdout.length).toBe(keptBytes);
    else expect(Buffer.byteLength(test.stdout)).toBe(keptBytes);
    kept += keptBytes + Buffer.byteLength(test.stderr);
  }
  expect(kept).toBeLessThanOrEqual(BUDGET);
  return result;
}

/** The peak VmRSS of process `pid`, sampled until stopped. */
function rssSampler(pid: number): { peak: () => number; stop: () => void } {
  let peak = 0;
  const sample = () => {
    try {
      const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      if (kb !== undefined) peak = Math.max(peak, Number(kb) * 1024);
    } catch {
      // exited
    }
  };
  const timer = setInterval(sample, 100);
  sample();
  return { peak: () => peak, stop: () => clearInterval(timer) };
}

const alive = (pid: number) => fs.existsSync(`/proc/${pid}`) && !/State:\s+Z/.test(fs.readFileSync(`/proc/${pid}/status`, "utf8"));

describe("a server that takes many maximal requests (64 MiB of output in each of 9 tests) stays up", () => {
  let server: Warren;
  let base: string;
  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = warren(
      ["serve", "--port", String(port), "--host", "127.0.0.1"],
      { REDIS_URL: "", NODE_OPTIONS: "--max-old-space-size=512", WARREN_CONCURRENCY: "2", WARREN_WAIT_MS: "300000", WARREN_RATE_LIMIT: "0", WARREN_LOG_LEVEL: "warn" },
      CHECKOUT,
    );
    await until200(`${base}/readyz`, server.log);
  });
  afterAll(async () => {
    if (server !== undefined) await stop(server.child);
  });

  it("embedded: answers each in sequence and in parallel with its result, within the budget, and keeps its RSS bounded", async () => {
    const pid = server.child.pid as number;
    const rss = rssSampler(pid);
    const started = Date.now();
    const ids: string[] = [];
    const done = (result: { id: string }) => ids.push(result.id);
    try {
      for (let i = 0; i < 5; i += 1) done(checkAnswer(await submit(base, body(JUDGED), [server]), JUDGED));
      // two run at once (WARREN_CONCURRENCY=2), the third waits for a slot
      const parallel = await Promise.all([submit(base, body(JUDGED), [server]), submit(base, body(HOSTILE), [server]), submit(base, body(JUDGED, { keepOutput: "failed" }), [server])]);
      done(checkAnswer(parallel[0] as { status: number; text: string }, JUDGED));
      const hostile = checkAnswer(parallel[1] as { status: number; text: string }, HOSTILE);
      done(hostile);
      expect(hostile.tests?.[0]?.stdout.slice(0, 4)).toBe("\u0001\uFFFD\u0003\uFFFD");
      const failedOnly = checkAnswer(parallel[2] as { status: number; text: string }, JUDGED, "failed");
      done(failedOnly);
      for (const test of failedOnly.tests ?? []) if (test.verdict === "accepted") expect(test.stdout).toBe("");
      done(checkAnswer(await submit(base, body(JUDGED), [server]), JUDGED));
      // every run is still there, its stored JSON as it was answered
      for (const id of ids) {
        const response = await fetch(`${base}/v1/runs/${id}`);
        expect(response.status, `GET ${id}`).toBe(200);
        expect(runResultSchema.parse(await response.json()).id).toBe(id);
      }
    } finally {
      rss.stop();
    }
    expect(alive(pid), server.log()).toBe(true);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    console.log(`embedded: ${ids.length} maximal runs in ${((Date.now() - started) / 1000).toFixed(1)} s; server peak RSS ${(rss.peak() / MIB).toFixed(0)} MiB`);
    expect(rss.peak()).toBeLessThan(RSS_BOUND);
  }, 240_000);
});

describe("distributed: redis-server + API + worker take a maximal request, and Redis keeps results within its byte cap", () => {
  let redis: TestRedis;
  let api: Warren;
  let worker: Warren;
  let base: string;
  const queue = `budget-${randomUUID().slice(0, 8)}`;
  /** A small cap, so that the second large result evicts the first (each counts its ~16 MiB JSON and its ~16 MiB event log). */
  const storeBytes = 48 * MIB;
  beforeAll(async () => {
    redis = await startRedis();
    const env = { REDIS_URL: redis.url, WARREN_QUEUE: queue, WARREN_RESULT_STORE_BYTES: String(storeBytes), NODE_OPTIONS: "--max-old-space-size=512", WARREN_CONCURRENCY: "1", WARREN_WAIT_MS: "300000", WARREN_RATE_LIMIT: "0", WARREN_LOG_LEVEL: "warn" };
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = warren(["serve", "--no-worker", "--port", String(port), "--host", "127.0.0.1"], env, CHECKOUT);
    worker = warren(["worker"], env, CHECKOUT);
    await until200(`${base}/readyz`, () => `${api.log()}\n${worker.log()}`);
  });
  afterAll(async () => {
    if (worker !== undefined) await stop(worker.child);
    if (api !== undefined) await stop(api.child);
    await redis?.dispose();
  });

  it("answers with the result, and evicts the oldest result past WARREN_RESULT_STORE_BYTES", async () => {
    const client = new Redis(redis.url);
    const rss = [rssSampler(api.child.pid as number), rssSampler(worker.child.pid as number)];
    try {
      const first = checkAnswer(await submit(base, body(JUDGED), [api, worker]), JUDGED);
      expect((await fetch(`${base}/v1/runs/${first.id}`)).status).toBe(200);
      const second = checkAnswer(await submit(base, body(JUDGED), [api, worker]), JUDGED);
      // two results of ~16 MiB, each with ~16 MiB of events, against a 48 MiB cap: the first is gone, the second kept
      expect((await fetch(`${base}/v1/runs/${first.id}`)).status).toBe(404);
      const kept = await fetch(`${base}/v1/runs/${second.id}`);
      expect(kept.status).toBe(200);
      expect(runResultSchema.parse(await kept.json()).tests?.map((test) => test.verdict)).toEqual(JUDGED.map((test) => test.verdict));
      const ids = await client.zrange(`${queue}:results`, 0, -1);
      expect(ids).toEqual([second.id]);
      // a result counts its JSON and its event log's bytes, and the evicted one's log went with it
      const sizes = await Promise.all(ids.map(async (id) => (await client.hstrlen(`${queue}:run:${id}`, "result")) + Number(await client.hget(`${queue}:run:${id}`, "eventBytes"))));
      expect(await client.exists(`${queue}:events:${first.id}`)).toBe(0);
      expect(await client.exists(`${queue}:events:${second.id}`)).toBe(1);
      const total = sizes.reduce((sum, size) => sum + size, 0);
      expect(Number(await client.get(`${queue}:results:total`))).toBe(total);
      expect(total).toBeLessThanOrEqual(storeBytes);
      // the jobs' data (their requests) went with them
      expect(await client.keys(`bull:${queue}:*`)).not.toContain(`bull:${queue}:${first.id}`);
    } finally {
      client.disconnect();
      for (const sampler of rss) sampler.stop();
    }
    expect(alive(api.child.pid as number) && alive(worker.child.pid as number)).toBe(true);
    const [apiPeak, workerPeak] = rss.map((sampler) => sampler.peak()) as [number, number];
    console.log(`distributed: peak RSS API ${(apiPeak / MIB).toFixed(0)} MiB, worker ${(workerPeak / MIB).toFixed(0)} MiB`);
    expect(Math.max(apiPeak, workerPeak)).toBeLessThan(RSS_BOUND);
  }, 180_000);
});
