import fs from "node:fs/promises";
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
    await kill(dir);
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
