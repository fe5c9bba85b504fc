import fs from "node:fs/promises";
import { closeSync, openSync, readdirSync, readSync } from "node:fs";
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
  /** The execution cgroup read (`e<n>`), when it was found beside another's (executionUsage's BESIDES). */
  readonly execution?: string;
}

/**
 * The CPU time and peak memory charged so far to the execution running in a
 * held container whose own cgroup is `warren-<pid>` in each of PARENTS, read
 * from its cgroup: with FIRST (the container's first execution, which runs in
 * the container's own cgroup itself: docs/launcher.md, *The container's
 * cgroup*), that cgroup while nothing is below it; else its only `e<n>` child
 * (the next one is made after the answer). Read as the launcher reads them at the end (v2
 * `cpu.stat` usage_usec and `memory.peak`; v1 `cpuacct.usage` and
 * `memory.max_usage_in_bytes`; its OOM kills). Undefined when any cannot be read.
 *
 * Read with synchronous calls: these are files the kernel writes as they are
 * read (no disk: some 0.15 ms for all of them, on either version), and a
 * function's answer waits for them; one after the other through libuv's
 * thread pool they took 2.3 ms (median) of a warm invocation on a loaded
 * machine, each hop waiting for a thread and for the event loop.
 */
export async function executionUsage(
  parents: readonly string[],
  pid: number,
  which: { readonly first?: boolean; readonly besides?: string; readonly after?: number } = {},
): Promise<CgroupUsage | undefined> {
  const { first = false, besides, after } = which;
  // BESIDES: the execution cgroup of a process that outlives the others (a zygote's), left out; the
  // one read is then the only other that holds a process now (an ended execution's, not yet
  // removed, and the next one's, made ahead, hold none until a process is there). AFTER: the
  // number of the last one read so: the one now is the first above it that holds a process
  // (numbers only grow; a few tried before all are listed)
  let only: string | undefined;
  if (besides !== undefined) {
    const own = path.join(parents[0] ?? "", `warren-${pid}`);
    for (let n = (after ?? Infinity) + 1; n <= (after ?? 0) + 8 && only === undefined; n++) {
      if (`e${n}` !== besides && holdsProcess(path.join(own, `e${n}`))) only = `e${n}`;
    }
    if (only === undefined) {
      const occupied = occupiedExecutions(parents[0] ?? "", pid).filter((name) => name !== besides);
      if (occupied.length !== 1) return undefined;
      only = occupied[0];
    }
  }
  const read: Partial<Record<UsageKind, number>> = {};
  for (const parent of parents) {
    const own = path.join(parent, `warren-${pid}`);
    const running = only === undefined ? executionDirs(own) : [path.join(own, only)];
    // FIRST: a container's first execution runs in the container's own cgroup; a later one never
    // reads it (it holds what the first charged)
    const dir = running.length === 1 ? running[0]! : first && running.length === 0 ? own : undefined;
    if (dir === undefined) return undefined;
    const known = usageLayout.get(parent);
    if (known !== undefined) {
      for (const [kind, file, key, scale] of known) {
        const value = keyed(path.join(dir, file), key);
        if (value === undefined) return undefined; // gone meanwhile
        read[kind] = value * scale;
      }
      continue;
    }
    const found: UsageFile[] = [];
    for (const [kind, file, key, scale] of USAGE_FILES) {
      if (read[kind] !== undefined) continue;
      const value = keyed(path.join(dir, file), key);
      if (value === undefined) continue;
      read[kind] = value * scale;
      found.push([kind, file, key, scale]);
    }
    usageLayout.set(parent, found);
  }
  const { cpuUs, peakBytes, oomKills } = read;
  if (cpuUs === undefined || peakBytes === undefined || oomKills === undefined) {
    for (const parent of parents) usageLayout.delete(parent); // looked for again next time
    return undefined;
  }
  return { cpuTimeMs: cpuUs / 1000, memoryKb: Math.floor(peakBytes / 1024), oomKills, ...(only === undefined ? {} : { execution: only }) };
}

type UsageKind = "cpuUs" | "peakBytes" | "oomKills";
type UsageFile = readonly [UsageKind, string, string | undefined, number];
/** Where each reading is, v2's file first (KEY: the flat-keyed line; a multiplier to its unit) */
const USAGE_FILES: readonly UsageFile[] = [
  ["cpuUs", "cpu.stat", "usage_usec", 1],
  ["cpuUs", "cpuacct.usage", undefined, 1 / 1000],
  ["peakBytes", "memory.peak", undefined, 1],
  ["peakBytes", "memory.max_usage_in_bytes", undefined, 1],
  ["oomKills", "memory.events", "oom_kill", 1],
  ["oomKills", "memory.oom_control", "oom_kill", 1],
];
/**
 * Which of USAGE_FILES each cgroup parent's executions answered, learnt at
 * the first reading: later readings open only those (a file that is not
 * there costs an exception each time; cgroup v1 has four hierarchies).
 */
const usageLayout = new Map<string, readonly UsageFile[]>();

/**
 * The names (`e<n>`) of the execution cgroups that hold a process now, below
 * the own cgroup, in PARENT, of the container held by launcher PID, lowest
 * number (the oldest) first.
 */
export function occupiedExecutions(parent: string, pid: number): string[] {
  return executionDirs(path.join(parent, `warren-${pid}`))
    .filter(holdsProcess)
    .map((dir) => path.basename(dir))
    .sort((a, b) => Number(a.slice(1)) - Number(b.slice(1)));
}

/** Whether cgroup DIR holds a process now (false once it is removed). */
function holdsProcess(dir: string): boolean {
  return (readSmall(path.join(dir, "cgroup.procs")) ?? "").trim() !== "";
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
  const text = readSmall(file);
  if (text === undefined) return undefined;
  const line = key === undefined ? text.split("\n")[0] : text.split("\n").find((entry) => entry.startsWith(`${key} `));
  const value = Number(key === undefined ? line : line?.slice(key.length + 1));
  return line === undefined || !Number.isFinite(value) ? undefined : value;
}

const small = Buffer.alloc(8192);

/**
 * The start of FILE (up to 8 KiB: the kernel's small cgroup files whole), or
 * undefined when it cannot be read. One open, read and close into a buffer
 * kept for it: a fifth of readFileSync's CPU (which sizes the file first and
 * allocates for each), measured 4.5 against 23.6 µs a file here.
 */
function readSmall(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch {
    return undefined;
  }
  try {
    return small.toString("latin1", 0, readSync(fd, small, 0, small.length, null));
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
