import fs from "node:fs/promises";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/** The child cgroups (sub-directories) of `dir`; none when `dir` is missing. */
export async function childCgroups(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return entries.filter((entry) => entry.isDirectory()).map((entry) => path.join(dir, entry.name));
}

/**
 * Child cgroups of `root` left behind by a launcher that is gone: the launcher
 * names its cgroup `warren-<its pid>` (a held container's own, with its
 * executions' cgroups below it; a one-shot's execution's). Everything else is kept:
 * the supervisor leaf, the live executions of other runners sharing the root,
 * and directories Warren did not make.
 */
export async function staleChildren(root: string): Promise<string[]> {
  return (await childCgroups(root)).filter((dir) => launcherGone(path.basename(dir)));
}

function launcherGone(name: string): boolean {
  const match = /^warren-(\d+)$/.exec(name);
  if (match === null) return false;
  try {
    process.kill(Number(match[1]), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** The pids listed in a cgroup's `cgroup.procs`; none when it is gone. */
export async function readPids(dir: string): Promise<number[]> {
  let text;
  try {
    text = await fs.readFile(path.join(dir, "cgroup.procs"), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => Number.parseInt(line, 10));
}

/** SIGKILLs each pid, ignoring ones that are already gone. */
export function killPids(pids: readonly number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Removes the cgroup `dir` and everything below it, deepest first. `kill` is
 * called before each attempt to empty one cgroup; rmdir is retried while the
 * kernel still reports it busy (dying processes are still members).
 */
export async function removeCgroupTree(dir: string, kill: (dir: string) => Promise<void>): Promise<void> {
  for (const child of await childCgroups(dir)) await removeCgroupTree(child, kill);
  for (let attempt = 0; ; attempt++) {
    try {
      await kill(dir);
    } catch (error) {
      // a kill's error names no file: the cgroup it was for is what a refusal must name
      if (typeof error === "object" && error !== null && (error as NodeJS.ErrnoException).path === undefined) Object.assign(error, { path: dir });
      throw error;
    }
    try {
      await fs.rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY" || attempt >= 250) throw error;
    }
    await sleep(20);
  }
}

/** What an execution's cgroup has charged so far: the launcher's accounting (docs/launcher.md, *Status line*), read live. */
export interface CgroupUsage {
  readonly cpuTimeMs: number;
  readonly memoryKb: number;
  /** Processes the kernel's OOM killer has killed in it (memory.events oom_kill; v1 memory.oom_control). */
  readonly oomKills: number;
}

/**
 * The CPU time and peak memory charged so far to the execution cgroup
 * running below a held container's own cgroup `warren-<pid>` in each of
 * PARENTS (its only `e<n>` child while an execution runs: the next one is
 * made after the answer), read as the launcher reads them at the end (v2
 * `cpu.stat` usage_usec and `memory.peak`; v1 `cpuacct.usage` and
 * `memory.max_usage_in_bytes`; its OOM kills). Undefined when any cannot be read.
 *
 * Read with synchronous calls: these are files the kernel writes as they are
 * read (no disk: some 0.15 ms for all of them, on either version), and a
 * function's answer waits for them; one after the other through libuv's
 * thread pool they took 2.3 ms (median) of a warm invocation on a loaded
 * machine, each hop waiting for a thread and for the event loop.
 */
export async function executionUsage(parents: readonly string[], pid: number): Promise<CgroupUsage | undefined> {
  let cpuUs: number | undefined;
  let peakBytes: number | undefined;
  let oomKills: number | undefined;
  for (const parent of parents) {
    const own = path.join(parent, `warren-${pid}`);
    const running = executionDirs(own);
    if (running.length !== 1) return undefined;
    const dir = running[0]!;
    cpuUs ??= keyed(path.join(dir, "cpu.stat"), "usage_usec") ?? mapDefined(keyed(path.join(dir, "cpuacct.usage")), (ns) => ns / 1000);
    peakBytes ??= keyed(path.join(dir, "memory.peak")) ?? keyed(path.join(dir, "memory.max_usage_in_bytes"));
    oomKills ??= keyed(path.join(dir, "memory.events"), "oom_kill") ?? keyed(path.join(dir, "memory.oom_control"), "oom_kill");
  }
  if (cpuUs === undefined || peakBytes === undefined || oomKills === undefined) return undefined;
  return { cpuTimeMs: cpuUs / 1000, memoryKb: Math.floor(peakBytes / 1024), oomKills };
}

/** The execution cgroups (`e<n>`) below a held container's own cgroup OWN; none when it is missing. */
function executionDirs(own: string): string[] {
  try {
    return readdirSync(own, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && /^e\d+$/.test(entry.name))
      .map((entry) => path.join(own, entry.name));
  } catch {
    return [];
  }
}

/** The number after KEY in a flat-keyed file (the first number without KEY); undefined when the file or key is missing. */
function keyed(file: string, key?: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const line = key === undefined ? text.split("\n")[0] : text.split("\n").find((entry) => entry.startsWith(`${key} `));
  const value = Number(key === undefined ? line : line?.slice(key.length + 1));
  return line === undefined || !Number.isFinite(value) ? undefined : value;
}

function mapDefined<T, U>(value: T | undefined, map: (value: T) => U): U | undefined {
  return value === undefined ? undefined : map(value);
}
