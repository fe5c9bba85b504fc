// The latency of a held container's first and second executions (`/bin/true`,
// with limits), for two launchers alternated container by container: what a
// job's second execution pays now that the level below the container's own
// cgroup is made when it comes rather than ahead (docs/launcher.md, *The
// container's cgroup*). Reports medians of the launcher's own `answerUs`
// (request header to status line) and `startUs` (request to execve).
// usage: node --import tsx bench/second-exec.ts [N] [BASELINE_LAUNCHER]
import { spawn } from "node:child_process";
import { AnswerReader, encodeExecRequest } from "../src/sandbox/container/served-frames.js";
import { resolveDataDir } from "../src/config/data-dir.js";
import { loadSettings } from "../src/config/load-settings.js";
import { detectCgroupDriver, resolveCgroupRoot } from "../src/sandbox/cgroup/index.js";
import { loadHostImage } from "../src/sandbox/images/host-image.js";
import { requireLauncher } from "../src/sandbox/container/launcher-path.js";

const N = Number(process.argv[2] ?? 100);
const settings = loadSettings(process.env).sandbox;
const launchers = { new: requireLauncher(settings.launcher), ...(process.argv[3] === undefined ? {} : { base: process.argv[3] }) };
const image = loadHostImage(resolveDataDir(settings.dataDir));
const driver = detectCgroupDriver();
const parents = driver.parents(resolveCgroupRoot(driver, settings.cgroupRoot));
const container = ["--rootfs", image.rootfs, ...image.binds.flatMap((b) => [b.optional === true ? "--ro-bind-try" : "--ro-bind", b.source, b.target]), ...parents.flatMap((p) => ["--cgroup", p])];
const request = [...Object.entries(image.env).flatMap(([k, v]) => ["--env", `${k}=${v}`]), "--memory-mb", "256", "--pids", "64", "--cpu-ms", "5000", "--wall-ms", "10000", "--timings", "--", "true"];

interface Timings { answerUs: number; startUs: number }

/** One container: its first, second and third executions' timings. */
async function one(launcher: string): Promise<Timings[]> {
  const child = spawn(launcher, ["--hold", ...container, "--status-fd", "2"], { stdio: ["pipe", "pipe", "pipe"] });
  await new Promise<void>((resolve) => child.stderr.once("data", () => resolve()));
  const answers: ((status: string) => void)[] = [];
  const reader = new AnswerReader((type, data) => { if (type === "s") answers.shift()?.(data.toString()); });
  child.stdout.on("data", (chunk: Buffer) => reader.push(chunk));
  const out: Timings[] = [];
  for (let i = 0; i < 3; i++) {
    const status = await new Promise<string>((resolve) => { answers.push(resolve); child.stdin.write(encodeExecRequest(request, Buffer.alloc(0))); });
    const parsed = JSON.parse(status) as { status: string; timings: Timings };
    if (parsed.status !== "ok") throw new Error(status);
    out.push(parsed.timings);
  }
  child.stdin.end();
  await new Promise((resolve) => child.once("exit", resolve));
  return out;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const results: Record<string, Timings[][]> = Object.fromEntries(Object.keys(launchers).map((name) => [name, []]));
for (let i = 0; i < N; i++) for (const [name, launcher] of Object.entries(launchers)) results[name]!.push(await one(launcher));
for (const [name, runs] of Object.entries(results)) {
  const at = (k: number, key: keyof Timings) => (median(runs.map((r) => r[k]![key])) / 1000).toFixed(2);
  console.log(`${name}: answer ms (1st / 2nd / 3rd) ${at(0, "answerUs")} / ${at(1, "answerUs")} / ${at(2, "answerUs")}; start ms ${at(0, "startUs")} / ${at(1, "startUs")} / ${at(2, "startUs")}`);
}
