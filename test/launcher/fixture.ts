/* Runs warren-launch directly, with the host image and the delegated cgroup
 * root of this machine (WARREN_CGROUP_ROOT / WARREN_DATA_DIR, as `warren run` uses). */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { resolveDataDir } from "../../src/config/data-dir.js";
import { detectCgroupDriver, resolveCgroupRoot } from "../../src/sandbox/cgroup/index.js";
import { loadHostImage } from "../../src/sandbox/images/host-image.js";
import { requireLauncher } from "../../src/sandbox/launcher-path.js";
import { TIME_SCALE } from "../helpers/sandbox.js";
export { childrenOf, processesWith } from "../helpers/processes.js";

export const launcher = requireLauncher();
export const image = loadHostImage(resolveDataDir());
const driver = detectCgroupDriver();
export const cgroupParents = driver.parents(resolveCgroupRoot(driver));

export const containerArgs: string[] = [
  "--rootfs", image.rootfs,
  ...image.binds.flatMap((b) => [b.optional === true ? "--ro-bind-try" : "--ro-bind", b.source, b.target]),
];
export const cgroupArgs: string[] = cgroupParents.flatMap((p) => ["--cgroup", p]);
export const envArgs: string[] = Object.entries(image.env).flatMap(([k, v]) => ["--env", `${k}=${v}`]);

export interface Status {
  status: string;
  exitCode?: number | null;
  signal?: string | null;
  step?: string;
  errno?: number;
  memoryKb?: number;
  cpuTimeMs?: number;
  wallTimeMs?: number;
  stdoutBytes?: number;
  stderrBytes?: number;
  outputTruncated?: boolean;
  ready?: boolean;
  pid?: number;
  timings?: Record<string, number>;
}

export interface Ran { code: number | null; stdout: string; stderr: string; status: Status; pid: number }

/** One-shot: `warren-launch [args] -- argv`, with the status on fd 3. */
export function launch(args: string[], argv: string[], input = ""): Ran {
  const r = spawnSync(launcher, [...args, "--status-fd", "3", "--", ...argv], {
    input,
    stdio: ["pipe", "pipe", "pipe", "pipe"],
    timeout: 60_000 * TIME_SCALE,
    maxBuffer: 64 << 20,
  });
  const statusText = String(r.output[3] ?? "");
  return {
    code: r.status,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    status: JSON.parse(statusText.trim().split("\n").at(-1) ?? "{}") as Status,
    pid: r.pid ?? 0,
  };
}

/** A python3 one-liner in a fresh one-shot container with cgroup limits. */
export function py(code: string, extra: string[] = []): Ran {
  return launch([...containerArgs, ...cgroupArgs, ...envArgs, "--memory-mb", "256", "--pids", "64", "--wall-ms", String(20000 * TIME_SCALE), ...extra], ["python3", "-c", code]);
}

/** The container init's pid from a `--hold` launcher's `{"ready":true,"pid":N}` line on fd 3. */
export async function readyPid(child: ChildProcess): Promise<number> {
  const line = await new Promise<string>((resolve, reject) => {
    let buf = "";
    child.stdio[3]!.on("data", (d: Buffer) => {
      buf += String(d);
      if (buf.includes("\n")) resolve(buf.split("\n")[0]!);
    });
    child.on("exit", (code) => reject(new Error(`holder exited ${code}: ${buf}`)));
  });
  const ready = JSON.parse(line) as Status;
  if (ready.ready !== true || typeof ready.pid !== "number") throw new Error(`holder said ${line}`);
  return ready.pid;
}

/** A held container; join() runs a program in it; close() ends it. */
export async function hold(extra: string[] = []): Promise<{ pid: number; join: (argv: string[], args?: string[]) => Ran; close: () => Promise<void> }> {
  const child = spawn(launcher, ["--hold", ...containerArgs, ...extra, "--status-fd", "3"], { stdio: ["pipe", "ignore", "pipe", "pipe"] });
  const pid = await readyPid(child);
  return {
    pid,
    join: (argv, args = []) => launch(["--join", String(pid), ...cgroupArgs, ...envArgs, "--wall-ms", String(20000 * TIME_SCALE), ...args], argv),
    close: () =>
      new Promise<void>((resolve) => {
        child.on("exit", () => resolve());
        child.stdin!.end();
      }),
  };
}

/** The cgroup directories a launcher with this pid would have made. */
export function cgroupsOf(launcherPid: number): string[] {
  return cgroupParents.map((p) => `${p}/warren-${launcherPid}`).filter((d) => fs.existsSync(d));
}
