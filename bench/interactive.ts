// An interactive problem: one test of 100 exchanges between a contestant's C program and a C interactor (compiled
// once per job in its own container, run beside the solution, joined through Node by streamed executions), beside
// the same solution run on a test whose stdin holds every answer up front (no interactor). Both through runJob on
// the real sandbox host, alternated round by round (A B A B …); every verdict is checked.
// Reports the median and p90 of each job's total time, and what an exchange costs.
//
// usage: node --import tsx bench/interactive.ts [--rounds 10] [--warmup 2] [--exchanges 100]
//        BENCH_QUICK=1 for small counts. Results: bench/results/interactive-*.json
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
    exchanges: { type: "string", default: "100" },
  },
});
const ROUNDS = Number(opts.rounds);
const WARMUP = Number(opts.warmup);
const EXCHANGES = Number(opts.exchanges);

// The interactor: N exchanges (N from its input file); to each number it answers the number plus one.
const INTERACTOR_C = `#include <stdio.h>
int main(int argc, char **argv) {
  FILE *in = fopen(argv[1], "r");
  int n;
  if (in == NULL || fscanf(in, "%d", &n) != 1) return 3;
  for (int i = 0; i < n; i++) {
    long x;
    if (scanf("%ld", &x) != 1 || x != 2L * i) { fprintf(stderr, "exchange %d: wrong\\n", i); return 1; }
    printf("%ld\\n", x + 1);
    fflush(stdout);
  }
  return 0;
}
`;
// The contestant: sends 0, then each answer plus one, and reads the answer each time.
const SOLUTION_C = `#include <stdio.h>
int main(void) {
  long x = 0;
  for (int i = 0; i < ${EXCHANGES}; i++) {
    printf("%ld\\n", x);
    fflush(stdout);
    if (scanf("%ld", &x) != 1) return 1;
    x += 1;
  }
  return 0;
}
`;
const solution = { language: "c", files: [{ path: "main.c", content: SOLUTION_C }], keepOutput: "none" as const };
const interactive: RunRequestInput = { ...solution, tests: [{ stdin: String(EXCHANGES) }], interactor: { language: "c", files: [{ path: "interactor.c", content: INTERACTOR_C }] } };
const answers = Array.from({ length: EXCHANGES }, (_, i) => String(2 * i + 1)).join("\n");
const plain: RunRequestInput = { ...solution, tests: [{ stdin: answers }] };

const sandbox = await openSandboxHost(loadSettings(process.env, "run").sandbox, { reapStale: false });
const languages = sandbox.image.languages;

async function timed(request: RunRequestInput): Promise<number> {
  const started = performance.now();
  const result = await runJob(jobSpecFromBody(request, { languages }), sandbox);
  const ms = performance.now() - started;
  if (result.verdict !== "accepted") throw new Error(`expected accepted, got ${result.status} ${result.verdict}: ${JSON.stringify(result.error ?? result.tests)}`);
  return ms;
}

const { summary: times, raw } = await alternate({ plain, interactive }, (request) => timed(request as RunRequestInput), ROUNDS, WARMUP);
const data = {
  kind: "interactive",
  quick: QUICK,
  machine: machine(),
  config: { rounds: ROUNDS, warmup: WARMUP, exchanges: EXCHANGES },
  plain: times.plain,
  interactive: times.interactive,
  msPerExchange: r2((pct(raw.interactive, 0.5) - pct(raw.plain, 0.5)) / EXCHANGES),
  raw,
};
console.log(
  table(
    ["run", "median ms", "p90 ms"],
    [
      ["one test, stdin up front (no interactor)", data.plain.medianMs, data.plain.p90Ms],
      [`one test, ${EXCHANGES} exchanges with a C interactor`, data.interactive.medianMs, data.interactive.p90Ms],
    ],
  ),
);
console.log(`interactive: ${data.msPerExchange} ms per exchange (the interactor's compile and container included)`);
console.log(`results: ${writeResult("interactive", data)}`);
process.exit(0);
