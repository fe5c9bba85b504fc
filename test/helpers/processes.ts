import fs from "node:fs";

/**
 * Host pids whose command line contains `marker` (or, with `prefix`, starts
 * with it: a process renamed by `exec -a MARKER`, not the shell that names it).
 * Tests give their own processes unique markers, so only those are found.
 */
export function processesWith(marker: string, options: { prefix?: boolean } = {}): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "latin1");
      if (options.prefix === true ? cmdline.startsWith(marker) : cmdline.includes(marker)) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

/** The parent pid of host process PID; 0 when it is gone. */
export function parentOf(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return 0; // exited meanwhile
  }
}

/** Host pids of the processes whose parent is PID. */
export function childrenOf(pid: number): number[] {
  return fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry) && parentOf(Number(entry)) === pid).map(Number);
}
