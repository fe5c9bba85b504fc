// Sustained trivial-Python invocations through a version's zygotes, for as long as asked: the tool to profile the
// zygote path under load (perf record -a while it runs), and to compare builds (BENCH_TREE is not needed: run it
// from each tree). Prints invocations/s per block and the CPU per invocation read from /proc/stat.
// usage: node --import tsx bench/zygote-throughput.ts [--in-flight 4] [--blocks 5] [--per-block 1000]
import fs from "node:fs";
import { parseArgs } from "node:util";
import { loadSettings } from "../src/config/load-settings.js";
import type { FunctionSource, FunctionVersion, InvocationEvent } from "../src/run/functions.js";
import { DEFAULT_COMPILE_LIMITS, DEFAULT_RUN_LIMITS } from "../src/run/limits.js";
import { openSandboxHost } from "../src/sandbox/sandbox-host.js";
import { createFunctionRuntime } from "../src/worker/functions/runtime.js";
import { pool as inParallel, r1, r2 } from "./common.js";

const { values: opts } = parseArgs({
  options: { "in-flight": { type: "string", default: "4" }, blocks: { type: "string", default: "5" }, "per-block": { type: "string", default: "1000" } },
});
const IN_FLIGHT = Number(opts["in-flight"]);
const host = await openSandboxHost(loadSettings(process.env, "serve").sandbox, { reapStale: false, pool: true });
const src: FunctionSource = {
  name: "bench-python",
  language: "python",
  languageVersion: "bench",
  image: host.image.name,
  mode: "handler",
  handler: "main.handler",
  files: [{ path: "main.py", content: Buffer.from("def handler(event, context):\n    return event\n") }],
  env: {},
  limits: { ...DEFAULT_RUN_LIMITS, wallTimeMs: 60_000 },
  compileLimits: DEFAULT_COMPILE_LIMITS,
};
const built = await createFunctionRuntime(host).build(src);
if (!built.ok) throw new Error(built.message);
const fn: FunctionVersion = { ...src, version: "1", number: 1, digest: "python", build: built.build, createdAt: new Date().toISOString() };
const rt = createFunctionRuntime(host, { maxZygotesPerVersion: 8 });
const event: InvocationEvent = { body: Buffer.from('{"n":1}'), contentType: "application/json" };
let ids = 0;
const invoke = async () => {
  const outcome = await rt.invoke(fn, event, { id: `zt-${++ids}`, logs: false });
  if (outcome.status !== "ok") throw new Error(`invocation: ${outcome.status} ${JSON.stringify(outcome.error)}`);
};
/** CPU jiffies of the whole machine (user + nice + system + irq + softirq + steal), in ms. */
const machineCpuMs = () => {
  const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  return ((f[0]! + f[1]! + f[2]! + f[5]! + f[6]! + f[7]!) * 1000) / 100;
};
const selfCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
await inParallel(IN_FLIGHT * 20, IN_FLIGHT, invoke);
for (let b = 0; b < Number(opts.blocks); b++) {
  const n = Number(opts["per-block"]);
  const cpu0 = machineCpuMs();
  const self0 = selfCpuMs();
  const ms = await inParallel(n, IN_FLIGHT, invoke);
  const cpu = machineCpuMs() - cpu0;
  const self = selfCpuMs() - self0;
  console.log(`block ${b}: ${r1(n / (ms / 1000))} invocations/s at ${IN_FLIGHT} in flight; machine CPU ${r2(cpu / n)} ms, this Node process ${r2(self / n)} ms per invocation`);
}
await rt.close();
await host.pool?.close();
