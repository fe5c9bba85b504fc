// The container client (src/sandbox/container/container.ts) alone: create a held container,
// copy a file in, exec /bin/true, exec it with a file staged (how the worker's
// first exec carries the job's files), exec python, destroy. Medians in ms,
// written to bench/results/exec-latency-*.json.
// usage: node --import tsx bench/exec-latency.ts
import { loadSettings } from "../src/config/load-settings.js";
import { openSandboxHost } from "../src/sandbox/sandbox-host.js";
import { Container } from "../src/sandbox/container/container.js";
import { pct, QUICK, r2, writeResult } from "./common.js";

const ITERATIONS = 30;
const s = await openSandboxHost(loadSettings(process.env, "run").sandbox);
const opts = { rootfs: s.image.rootfs, binds: s.image.binds, cgroups: s.cgroups, scratchMb: 64 };
const limits = { wallTimeMs: 5000, cpuTimeMs: 3000, memoryMb: 256, processes: 64, outputKb: 1024 };
const env = { PATH: "/usr/bin:/bin" };
const create: number[] = [], copy: number[] = [], exTrue: number[] = [], staged: number[] = [], exPy: number[] = [], destroy: number[] = [];
for (let i = 0; i < ITERATIONS; i++) {
  let t0 = performance.now();
  const c = await Container.create(opts);
  create.push(performance.now() - t0);
  t0 = performance.now();
  await c.copyIn([{ path: "main.py", content: "pass\n" }]);
  copy.push(performance.now() - t0);
  t0 = performance.now();
  await c.exec({ argv: ["true"], env, limits });
  exTrue.push(performance.now() - t0);
  t0 = performance.now();
  c.attachFiles([{ path: "staged.py", content: "pass\n" }]);
  await c.exec({ argv: ["true"], env, limits });
  staged.push(performance.now() - t0);
  t0 = performance.now();
  await c.exec({ argv: ["python3", "main.py"], env, limits });
  exPy.push(performance.now() - t0);
  t0 = performance.now();
  await c.destroy();
  destroy.push(performance.now() - t0);
}
const median = (values: number[]) => r2(pct(values, 0.5));
const medians = { create: median(create), copyIn: median(copy), execTrue: median(exTrue), stagedExecTrue: median(staged), execPython: median(exPy), destroy: median(destroy) };
console.log(medians);
console.log(`# written: ${writeResult("exec-latency", { date: new Date().toISOString(), quick: QUICK, iterations: ITERATIONS, ...medians })}`);
