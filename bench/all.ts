// `npm run bench`: every benchmark in turn, then one summary table.
//   start-latency (bench/start-latency.sh), exec-latency, service-latency, throughput, cpu (CPU per run against bwrap), scaling, checker, interactive, functions,
//   functions-api (the same handlers through the HTTP API, embedded and distributed), summary;
//   each writes its own bench/results/*.json.
// A failing piece does not stop the others; the exit code is non-zero when any failed.
// BENCH_QUICK=1: small counts everywhere (a smoke test of the whole suite in a couple of minutes).
// Needs `npm run build` (the servers run dist/) and redis-server (distributed modes).
// usage: node --import tsx bench/all.ts
import { spawn } from "node:child_process";
import { QUICK, repo } from "./common.js";

const since = new Date().toISOString();
const tsx = (file: string, ...args: string[]) => [process.execPath, "--import", "tsx", file, ...args];
const steps: { name: string; argv: string[] }[] = [
  { name: "start-latency", argv: ["bash", "bench/start-latency.sh", QUICK ? "30" : "200"] },
  { name: "exec-latency", argv: tsx("bench/exec-latency.ts") },
  { name: "service-latency", argv: tsx("bench/service-latency.ts", QUICK ? "10" : "50") },
  { name: "throughput", argv: tsx("bench/throughput.ts") },
  { name: "cpu", argv: tsx("bench/cpu.ts") },
  { name: "scaling", argv: tsx("bench/scaling.ts") },
  { name: "checker", argv: tsx("bench/checker.ts") },
  { name: "interactive", argv: tsx("bench/interactive.ts") },
  { name: "functions", argv: tsx("bench/functions.ts") },
  { name: "functions-api", argv: tsx("bench/functions-api.ts") },
];

function run(argv: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: repo, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", reject);
    child.on("close", resolve);
  });
}

const failures: string[] = [];
for (const step of steps) {
  console.log(`\n=== ${step.name}${QUICK ? " (quick)" : ""} ===`);
  const started = performance.now();
  const code = await run(step.argv);
  console.log(`=== ${step.name}: ${code === 0 ? "ok" : `FAILED (exit ${code})`}, ${((performance.now() - started) / 1000).toFixed(1)} s ===`);
  if (code !== 0) failures.push(step.name);
}
await run(tsx("bench/summary.ts", "--since", since));
if (failures.length > 0) {
  console.error(`\nFAILED: ${failures.join(", ")}`);
  process.exit(1);
}
