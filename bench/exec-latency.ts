import { openSandbox } from "../src/sandbox/environment.js";
import { Container } from "../src/sandbox/launcher.js";
const s = await openSandbox();
const opts = { rootfs: s.image.rootfs, binds: s.image.binds, cgroups: s.cgroups, scratchMb: 64 };
const limits = { wallTimeMs: 5000, cpuTimeMs: 3000, memoryMb: 256, processes: 64, outputKb: 1024 };
const env = { PATH: "/usr/bin:/bin" };
const t = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!.toFixed(2);
const create: number[] = [], copy: number[] = [], exTrue: number[] = [], staged: number[] = [], exPy: number[] = [], destroy: number[] = [];
for (let i = 0; i < 30; i++) {
  let t0 = performance.now();
  const c = await Container.create(opts);
  create.push(performance.now() - t0);
  t0 = performance.now();
  await c.copyIn([{ path: "main.py", content: "pass\n" }]);
  copy.push(performance.now() - t0);
  t0 = performance.now();
  await c.exec({ argv: ["true"], env, limits });
  exTrue.push(performance.now() - t0);
  // how the worker sends a job's files: staged, and written by its first exec, in the same request
  t0 = performance.now();
  c.stage([{ path: "staged.py", content: "pass\n" }]);
  await c.exec({ argv: ["true"], env, limits });
  staged.push(performance.now() - t0);
  t0 = performance.now();
  await c.exec({ argv: ["python3", "main.py"], env, limits });
  exPy.push(performance.now() - t0);
  t0 = performance.now();
  await c.destroy();
  destroy.push(performance.now() - t0);
}
console.log({ create: t(create), copyIn: t(copy), execTrue: t(exTrue), stagedExecTrue: t(staged), execPython: t(exPy), destroy: t(destroy) });
