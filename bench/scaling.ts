// How the cost of a run grows, through the HTTP API of an embedded server
// (`warren serve`, in-process queue, WARREN_CONCURRENCY = cores by default):
//
//   (a) concurrency   trivial Python, 1, 2, 4, 8, 32 requests in flight: runs/s, latency p50/p99
//   (b) output size   a Python program printing N bytes (1 KiB … the server's output limit): latency p50
//   (c) image         the same trivial program in each installed image (GET /v1/images): start latency p50/p99
//   (d) tests         judge runs of a trivial C++ a+b with 1, 10, 50, 100 tests: total time and ms per test
//
// Every answer is checked (verdict, output, test count); a wrong one fails the benchmark.
// usage: node --import tsx bench/scaling.ts [--count 100] [--parts a,b,c,d] [--max-output]
//        BENCH_QUICK=1 for small counts. Needs `npm run build`. Results: bench/results/scaling-*.json
import { parseArgs } from "node:util";
import { MAX_LIMITS } from "../src/run/limits.js";
import { machine, pct, pool, QUICK, r1, r2, rssOf, startEmbedded, table, timedRun, writeResult, type RunResult } from "./common.js";

const { values: opts } = parseArgs({
  options: {
    count: { type: "string", default: QUICK ? "16" : "100" },
    parts: { type: "string", default: "a,b,c,d" },
    // Also the largest output (the server's maximum, 64 MiB): slow and memory-hungry, off in quick mode.
    "max-output": { type: "boolean", default: !QUICK },
  },
});
const COUNT = Number(opts.count);
const PARTS = new Set(opts.parts.split(","));
const CONCURRENCY = [1, 2, 4, 8, 32];
const OUTPUT_REPS = QUICK ? 5 : 20;
const IMAGE_REPS = QUICK ? 8 : 40;
const TEST_COUNTS = [1, 10, 50, 100];
const JUDGE_REPS = QUICK ? 2 : 5;
const WARMUP = QUICK ? 3 : 10;

const KIB = 1024;
const MIB = 1024 * KIB;
const python = (code: string, extra: Record<string, unknown> = {}) => JSON.stringify({ language: "python", files: [{ path: "main.py", content: code }], ...extra });
const TRIVIAL = python("print('hi')");

function expect(cond: boolean, what: string, result: RunResult): void {
  if (!cond) throw new Error(`wrong answer (${what}): ${JSON.stringify(result).slice(0, 2000)}`);
}

async function trivial(base: string, body = TRIVIAL): Promise<number> {
  const { ms, result } = await timedRun(base, body);
  expect(result.verdict === "accepted" && result.run?.stdout === "hi\n", "trivial run", result);
  return ms;
}

const fmtSize = (bytes: number) => (bytes >= MIB ? `${bytes / MIB} MiB` : `${bytes / KIB} KiB`);
const out: Record<string, unknown> = { date: new Date().toISOString(), machine: machine(), quick: QUICK, config: { count: COUNT, parts: [...PARTS] } };
const tables: string[] = [];
let failed = false;
const started = Date.now();
console.log(`# scaling: embedded server, ${COUNT} runs per concurrency level${QUICK ? " (quick)" : ""}`);
// (b) measures a result that keeps all of its output, up to the largest output limit: the result budget must allow it.
const server = await startEmbedded({ WARREN_RESULT_MAX_BYTES: String(MAX_LIMITS.outputKb * KIB) });
const base = server.base;
try {
  await pool(WARMUP, 2, async () => void (await trivial(base)));
  out.rssKbBefore = rssOf(server);

  if (PARTS.has("a")) {
    const rows = [];
    for (const inFlight of CONCURRENCY) {
      const count = Math.max(COUNT, 2 * inFlight);
      const latencies: number[] = [];
      const ms = await pool(count, inFlight, async () => void latencies.push(await trivial(base)));
      rows.push({ inFlight, runs: count, runsPerSecond: r2(count / (ms / 1000)), p50Ms: r1(pct(latencies, 0.5)), p99Ms: r1(pct(latencies, 0.99)) });
      console.log(`(a) ×${inFlight}: ${rows.at(-1)!.runsPerSecond} runs/s`);
    }
    out.concurrency = rows;
    tables.push(
      `### (a) concurrency — trivial Python, embedded\n\n${table(
        ["in flight", "runs", "runs/s", "p50 ms", "p99 ms"],
        rows.map((r) => [r.inFlight, r.runs, r.runsPerSecond, r.p50Ms, r.p99Ms]),
      )}`,
    );
  }

  if (PARTS.has("b")) {
    // The default output limit is 1 MiB: each size runs with outputKb just large enough (at least the default).
    const sizes = [1 * KIB, 64 * KIB, 1 * MIB, 8 * MIB, ...(opts["max-output"] ? [MAX_LIMITS.outputKb * KIB] : [])];
    const rows = [];
    for (const size of sizes) {
      const outputKb = Math.max(1024, Math.ceil(size / KIB));
      const body = python(`import sys\nsys.stdout.write('x' * ${size})`, { limits: { outputKb } });
      const reps = size >= 8 * MIB ? Math.max(2, Math.ceil(OUTPUT_REPS / 4)) : OUTPUT_REPS;
      const latencies: number[] = [];
      const programMs: number[] = [];
      for (let i = 0; i < reps; i += 1) {
        const { ms, result } = await timedRun(base, body);
        latencies.push(ms);
        expect(result.verdict === "accepted" && result.run?.stdout.length === size && !result.run.stdoutTruncated, `${size} bytes of output`, result);
        programMs.push(result.run!.wallTimeMs);
      }
      rows.push({ bytes: size, outputKb, reps, p50Ms: r1(pct(latencies, 0.5)), p99Ms: r1(pct(latencies, 0.99)), sandboxWallP50Ms: r1(pct(programMs, 0.5)) });
      console.log(`(b) ${fmtSize(size)}: p50 ${rows.at(-1)!.p50Ms} ms`);
    }
    // Past the limit: 2 MiB printed under the default 1 MiB limit.
    {
      const body = python(`import sys\nsys.stdout.write('x' * ${2 * MIB})`);
      const latencies: number[] = [];
      for (let i = 0; i < OUTPUT_REPS; i += 1) {
        const { ms, result } = await timedRun(base, body);
        latencies.push(ms);
        expect(result.verdict === "output_limit_exceeded", "2 MiB over a 1 MiB limit", result);
      }
      rows.push({ bytes: 2 * MIB, outputKb: 1024, reps: OUTPUT_REPS, p50Ms: r1(pct(latencies, 0.5)), p99Ms: r1(pct(latencies, 0.99)), sandboxWallP50Ms: null, overLimit: true });
    }
    out.outputSize = rows;
    tables.push(
      `### (b) output size — Python printing N bytes, embedded\n\n${table(
        ["stdout", "outputKb limit", "reps", "p50 ms", "p99 ms", "in-sandbox wall p50 ms"],
        rows.map((r) => [`${fmtSize(r.bytes)}${"overLimit" in r ? " (over the limit: output_limit_exceeded)" : ""}`, r.outputKb, r.reps, r.p50Ms, r.p99Ms, r.sandboxWallP50Ms ?? "-"]),
      )}`,
    );
  }

  if (PARTS.has("c")) {
    const images = (await (await fetch(`${base}/v1/images`)).json()) as { name: string; sizeBytes: number | null; languages: { id: string }[] }[];
    const programs: Record<string, { language: string; path: string; code: string }> = {
      python: { language: "python", path: "main.py", code: "print('hi')" },
      bash: { language: "bash", path: "main.sh", code: "echo hi" },
      javascript: { language: "javascript", path: "main.js", code: "console.log('hi')" },
    };
    const rows = [];
    for (const image of images) {
      const id = ["python", "bash", "javascript"].find((lang) => image.languages.some((l) => l.id === lang));
      if (id === undefined) {
        rows.push({ image: image.name, sizeBytes: image.sizeBytes, language: null, p50Ms: null, p99Ms: null });
        continue;
      }
      const p = programs[id]!;
      const body = JSON.stringify({ language: p.language, image: image.name, files: [{ path: p.path, content: p.code }] });
      await trivial(base, body);
      const latencies: number[] = [];
      for (let i = 0; i < IMAGE_REPS; i += 1) latencies.push(await trivial(base, body));
      rows.push({ image: image.name, sizeBytes: image.sizeBytes, language: id, p50Ms: r1(pct(latencies, 0.5)), p99Ms: r1(pct(latencies, 0.99)) });
      console.log(`(c) ${image.name}: p50 ${rows.at(-1)!.p50Ms} ms`);
    }
    out.images = rows;
    tables.push(
      `### (c) image — trivial program per installed image, sequential, embedded\n\n${table(
        ["image", "size", "language", "p50 ms", "p99 ms"],
        rows.map((r) => [r.image, r.sizeBytes === null ? "- (host)" : `${r1(r.sizeBytes / MIB)} MiB`, r.language ?? "(none of python/bash/js)", r.p50Ms ?? "-", r.p99Ms ?? "-"]),
      )}`,
    );
  }

  if (PARTS.has("d")) {
    const source = "#include <iostream>\nint main() { long long a, b; std::cin >> a >> b; std::cout << a + b << '\\n'; }\n";
    const rows = [];
    for (const n of TEST_COUNTS) {
      const tests = Array.from({ length: n }, (_, i) => ({ name: String(i + 1), stdin: `${i} ${i * 2}\n`, expectedOutput: `${i * 3}\n` }));
      const body = JSON.stringify({ language: "cpp", files: [{ path: "main.cpp", content: source }], tests });
      const totals: number[] = [];
      const inSandbox: number[] = [];
      for (let i = 0; i < JUDGE_REPS; i += 1) {
        const { ms, result } = await timedRun(base, body);
        totals.push(ms);
        expect(result.verdict === "accepted" && result.tests?.length === n && result.tests.every((t) => t.verdict === "accepted"), `judge run of ${n} tests`, result);
        inSandbox.push(result.tests!.reduce((sum, t) => sum + t.wallTimeMs, 0) / n);
      }
      rows.push({ tests: n, reps: JUDGE_REPS, totalP50Ms: r1(pct(totals, 0.5)), perTestMs: r2(pct(totals, 0.5) / n), programWallPerTestMs: r2(pct(inSandbox, 0.5)) });
      console.log(`(d) ${n} tests: ${rows.at(-1)!.totalP50Ms} ms`);
    }
    // The marginal cost of one more test: the slope between the 1-test and the largest run.
    const first = rows[0]!;
    const last = rows.at(-1)!;
    const marginal = r2((last.totalP50Ms - first.totalP50Ms) / (last.tests - first.tests));
    out.tests = { rows, marginalMsPerTest: marginal };
    tables.push(
      `### (d) tests per judge run — C++ a+b (compiled once), embedded\n\n${table(
        ["tests", "reps", "total p50 ms", "ms per test (total / n)", "program wall per test ms (in sandbox)"],
        rows.map((r) => [r.tests, r.reps, r.totalP50Ms, r.perTestMs, r.programWallPerTestMs]),
      )}\n\nmarginal cost of one more test: ${marginal} ms`,
    );
  }
  out.rssKbAfter = rssOf(server);
} catch (error) {
  console.error(`FAIL: ${(error as Error).stack ?? error}`);
  failed = true;
} finally {
  await server.stop();
}
out.seconds = r1((Date.now() - started) / 1000);
out.ok = !failed;
console.log();
console.log(tables.join("\n\n"));
const file = writeResult("scaling", out);
console.log(`\n# written: ${file}${failed ? " (FAILED)" : ""}`);
process.exit(failed ? 1 : 0);
