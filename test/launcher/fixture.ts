/* Runs warren-launch directly, with the host image and the delegated cgroup
 * root of this machine (WARREN_CGROUP_ROOT / WARREN_DATA_DIR, as `warren run` uses). */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import { afterEach } from "vitest";
import { AnswerReader, encodeExecRequest } from "../../src/sandbox/container/served-frames.js";
import { resolveDataDir } from "../../src/config/data-dir.js";
import { loadSettings } from "../../src/config/load-settings.js";
import { detectCgroupDriver, resolveCgroupRoot } from "../../src/sandbox/cgroup/index.js";
import { loadHostImage } from "../../src/sandbox/images/host-image.js";
import { requireLauncher } from "../../src/sandbox/container/launcher-path.js";
import { TIME_SCALE } from "../helpers/sandbox.js";
export { childrenOf, processesWith } from "../helpers/processes.js";

const settings = loadSettings(process.env).sandbox;
export const launcher = requireLauncher(settings.launcher);
export const image = loadHostImage(resolveDataDir(settings.dataDir));
const driver = detectCgroupDriver();
export const cgroupParents = driver.parents(resolveCgroupRoot(driver, settings.cgroupRoot));

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
  message?: string;
  memoryKb?: number;
  cpuTimeMs?: number;
  wallTimeMs?: number;
  stdoutBytes?: number;
  stderrBytes?: number;
  outputTruncated?: boolean;
  ready?: boolean;
  pid?: number;
  timings?: Record<string, number>;
  /** What the container was built without (docs/launcher.md, *Inside a container*) */
  degraded?: string[];
}

export interface Ran { code: number | null; stdout: string; stderr: string; status: Status; pid: number }

/** One-shot: `warren-launch [args] -- argv`, with the status on fd 3 (a held container with this one request). */
export function launch(args: string[], argv: string[], input = "", wrap: readonly string[] = []): Ran {
  const command = [...wrap, launcher, ...args, "--status-fd", "3", "--", ...argv];
  const r = spawnSync(command[0]!, command.slice(1), {
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

/** The exec options every python one-liner runs with (EXTRA ones after them win). */
const pyLimits = (): string[] => [...envArgs, "--memory-mb", "256", "--pids", "64", "--wall-ms", String(20000 * TIME_SCALE)];

/** A python3 one-liner as one one-shot run, with cgroup limits and EXTRA options. */
export function pyOnce(code: string, extra: string[] = []): Ran {
  return launch([...containerArgs, ...cgroupArgs, ...pyLimits(), ...extra], ["python3", "-c", code]);
}

/**
 * A python3 one-liner as a served request, with cgroup limits and EXTRA exec
 * options, in a fresh held container (with CONTAINER options) that ends with
 * it: the path production uses, one container per run as a one-shot has.
 */
export async function py(code: string, extra: string[] = [], container: string[] = []): Promise<Answer> {
  const box = await served(container);
  try {
    return await box.request([...pyLimits(), ...extra, "--", "python3", "-c", code]);
  } finally {
    await box.close();
  }
}

/** The container init's pid from a `--hold` launcher's `{"ready":true,"pid":N}` line on fd 3. */
export async function readyPid(child: ChildProcess): Promise<number> {
  return (await readyLine(child)).pid!;
}

/** A `--hold` launcher's ready line on fd 3, `{"ready":true,"pid":N,…}`. */
export async function readyLine(child: ChildProcess): Promise<Status> {
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
  return ready;
}

export interface Answer { stdout: string; stderr: string; status: Status & { step?: string; message?: string } }

/** A held container (`--hold`), spoken to byte for byte without the TypeScript client. */
export interface Served {
  readonly child: ChildProcess;
  readonly initPid: number;
  /** Its ready line */
  readonly ready: Status;
  /** One served request: exec options (the container's cgroups are implied), "--", the program. */
  request(args: string[], stdin?: string | Buffer): Promise<Answer>;
  exited(): Promise<number | null>;
  /** Ends the container (stdin EOF) and waits for the holder. */
  close(): Promise<number | null>;
}

const holders: ChildProcess[] = [];
/** Holders a test left running are ended as the client ends them (stdin EOF: the container and its cgroups go), SIGKILL only if that fails. */
afterEach(async () => {
  await Promise.all(holders.splice(0).map(async (child) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.stdin?.end();
    const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(killer);
  }));
});

/**
 * `warren-launch --hold` with the host image, the delegated cgroups (unless
 * `cgroups: false`) and EXTRA container options; started by `wrap` (a
 * program that execs the rest: test/helpers/contain.c) when given.
 */
export async function served(extra: string[] = [], options: { cgroups?: boolean; wrap?: readonly string[] } = {}): Promise<Served> {
  const argv = [...(options.wrap ?? []), launcher, "--hold", ...containerArgs, ...(options.cgroups === false ? [] : cgroupArgs), ...extra, "--status-fd", "3"];
  const child = spawn(argv[0]!, argv.slice(1), {
    stdio: ["pipe", "pipe", "pipe", "pipe"],
  });
  holders.push(child);
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const ready = await readyLine(child);
  const initPid = ready.pid!;
  let current: { answer: Answer; resolve: (answer: Answer) => void } | undefined;
  const reader = new AnswerReader((type, data) => {
    if (current === undefined) throw new Error(`a frame '${type}' with no request`);
    if (type === "o") current.answer.stdout += data.toString();
    else if (type === "e") current.answer.stderr += data.toString();
    else {
      current.answer.status = JSON.parse(data.toString()) as Answer["status"];
      const done = current;
      current = undefined;
      done.resolve(done.answer);
    }
  });
  child.stdout!.on("data", (chunk: Buffer) => reader.push(chunk));
  return {
    child,
    initPid,
    ready,
    request: (args, stdin = "") =>
      new Promise<Answer>((resolve) => {
        current = { answer: { stdout: "", stderr: "", status: {} as Answer["status"] }, resolve };
        child.stdin!.write(encodeExecRequest(args, typeof stdin === "string" ? Buffer.from(stdin) : stdin));
      }),
    exited: () => exit,
    close: () => {
      child.stdin!.end();
      return exit;
    },
  };
}

/** The cgroup directories a launcher with this pid would have made (a held container's own; a one-shot's execution's). */
export function cgroupsOf(launcherPid: number): string[] {
  return cgroupParents.map((p) => `${p}/warren-${launcherPid}`).filter((d) => fs.existsSync(d));
}
