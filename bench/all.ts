// `npm run bench`: every benchmark in turn, then one summary table.
//   start-latency (bench/start-latency.sh), exec-latency (bench/exec-latency.ts; its printed medians are
//   saved as bench/results/exec-latency-*.json), service-latency, throughput, scaling, summary.
// A failing piece does not stop the others; the exit code is non-zero when any failed.
// BENCH_QUICK=1: small counts everywhere (a smoke test of the whole suite in a couple of minutes).
// Needs `npm run build` (the servers run dist/) and redis-server (distributed modes).
// usage: node --import tsx bench/all.ts
import { spawn } from "node:child_process";
import { QUICK, repo, writeResult } from "./common.js";

const since = new Date().toISOString();
const tsx = (file: string, ...args: string[]) => [process.execPath, "--import", "tsx", file, ...args];
const steps: { name: string; argv: string[]; capture?: boolean }[] = [
  { name: "start-latency", argv: ["bash", "bench/start-latency.sh", QUICK ? "30" : "200"] },
  { name: "exec-latency", argv: tsx("bench/exec-latency.ts"), capture: true },
  { name: "service-latency", argv: tsx("bench/service-latency.ts", QUICK ? "10" : "50") },
  { name: "throughput", argv: tsx("bench/throughput.ts") },
  { name: "scaling", argv: tsx("bench/scaling.ts") },
];

function run(argv: string[], capture: boolean): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: repo, stdio: ["ignore", capture ? "pipe" : "inherit", "inherit"] });
    let stdout = "";
    child.stdout?.on("data", (b: Buffer) => {
      stdout += b.toString();
      process.stdout.write(b);
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

const failures: string[] = [];
for (const step of steps) {
  console.log(`\n=== ${step.name}${QUICK ? " (quick)" : ""} ===`);
  const started = performance.now();
  const { code, stdout } = await run(step.argv, step.capture === true);
  if (step.name === "exec-latency" && code === 0) {
    // It prints `{ create: '5.10', copyIn: '0.40', … }` (medians in ms): keep them for the summary.
    const medians = Object.fromEntries([...stdout.matchAll(/(\w+): '([\d.]+)'/g)].map((m) => [m[1], Number(m[2])]));
    if (Object.keys(medians).length === 0) failures.push("exec-latency (output not understood)");
    else console.log(`# written: ${writeResult("exec-latency", { date: new Date().toISOString(), quick: QUICK, iterations: 30, ...medians })}`);
  }
  console.log(`=== ${step.name}: ${code === 0 ? "ok" : `FAILED (exit ${code})`}, ${((performance.now() - started) / 1000).toFixed(1)} s ===`);
  if (code !== 0) failures.push(step.name);
}
await run(tsx("bench/summary.ts", "--since", since), false);
if (failures.length > 0) {
  console.error(`\nFAILED: ${failures.join(", ")}`);
  process.exit(1);
}
