// A checker-judged run: 50 tests judged by a checker program (a float checker in C, compiled once per job in its
// own container, run once per test as `checker input output answer`) beside the same 50 tests judged by the
// built-in float checker (streamed in the worker, no process). Both through runJob on the real sandbox host,
// alternated round by round (A B A B …) so drift hits them alike; every verdict is checked.
// Reports the median and p90 of each job's total time, and what the checker program adds per test.
//
// usage: node --import tsx bench/checker.ts [--rounds 10] [--warmup 2] [--tests 50]
//        BENCH_QUICK=1 for small counts. Results: bench/results/checker-*.json
import { parseArgs } from "node:util";
import { loadSettings } from "../src/config/load-settings.js";
import { jobSpecFromBody } from "../src/run/job-spec.js";
import type { RunRequestInput } from "../src/run/request.js";
import { openSandboxHost } from "../src/sandbox/sandbox-host.js";
import { runJob } from "../src/worker/run-job.js";
import { alternate, machine, pct, QUICK, r2, table, writeResult } from "./common.js";

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: QUICK ? "3" : "10" },
    warmup: { type: "string", default: QUICK ? "1" : "2" },
    tests: { type: "string", default: "50" },
  },
});
const ROUNDS = Number(opts.rounds);
const WARMUP = Number(opts.warmup);
const TESTS = Number(opts.tests);

const CHECKER_C = `#include <math.h>
#include <stdio.h>
int main(int argc, char **argv) {
  if (argc != 4) return 3;
  FILE *out = fopen(argv[2], "r"), *ans = fopen(argv[3], "r");
  if (out == NULL || ans == NULL) return 3;
  double a, b;
  while (fscanf(ans, "%lf", &b) == 1) {
    if (fscanf(out, "%lf", &a) != 1 || fabs(a - b) > 1e-6 * fmax(1.0, fabs(b))) { fputs("wrong\\n", stderr); return 1; }
  }
  return fscanf(out, "%lf", &a) == 1 ? 2 : 0;
}
`;
// The contestant: the square roots of 1..n.
const SOLUTION_C = `#include <math.h>
#include <stdio.h>
int main(void) { int n; if (scanf("%d", &n) != 1) return 1; for (int i = 1; i <= n; i++) printf("%.9f\\n", sqrt(i)); return 0; }
`;
const tests = Array.from({ length: TESTS }, (_, t) => {
  const n = 10 + t * 20;
  return { stdin: String(n), expectedOutput: Array.from({ length: n }, (_, i) => Math.sqrt(i + 1).toFixed(7)).join("\n") };
});
const body = (checker: RunRequestInput["checker"]): RunRequestInput => ({ language: "c", files: [{ path: "main.c", content: SOLUTION_C }], tests, checker, keepOutput: "none" });
const builtin = body({ kind: "float", epsilon: 1e-6 });
const program = body({ kind: "program", language: "c", files: [{ path: "checker.c", content: CHECKER_C }] });

const sandbox = await openSandboxHost(loadSettings(process.env, "run").sandbox, { reapStale: false });
const languages = sandbox.image.languages;

async function timed(request: RunRequestInput): Promise<number> {
  const started = performance.now();
  const result = await runJob(jobSpecFromBody(request, { languages }), sandbox);
  const ms = performance.now() - started;
  const verdicts = result.tests?.map((test) => test.verdict) ?? [];
  if (result.verdict !== "accepted" || verdicts.length !== TESTS) throw new Error(`expected ${TESTS} accepted tests, got ${result.status} ${result.verdict}: ${JSON.stringify(result.error ?? verdicts)}`);
  return ms;
}

const { summary: times, raw } = await alternate({ builtin, program }, (request) => timed(request as RunRequestInput), ROUNDS, WARMUP);
const data = {
  kind: "checker",
  quick: QUICK,
  machine: machine(),
  config: { rounds: ROUNDS, warmup: WARMUP, tests: TESTS },
  builtin: times.builtin,
  program: times.program,
  programExtraMsPerTest: r2((pct(raw.program, 0.5) - pct(raw.builtin, 0.5)) / TESTS),
  raw,
};
console.log(
  table(
    ["checker", `${TESTS} tests: median ms`, "p90 ms"],
    [
      ["built-in float (streamed)", data.builtin.medianMs, data.builtin.p90Ms],
      ["program (C float checker)", data.program.medianMs, data.program.p90Ms],
    ],
  ),
);
console.log(`checker program: +${data.programExtraMsPerTest} ms per test`);
console.log(`results: ${writeResult("checker", data)}`);
process.exit(0);
