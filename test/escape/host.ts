/* What the adversarial suite checks on the host side: our own marked
 * processes, cgroups of dead launchers, disk space, and that
 * the host still answers. Only processes whose command line carries a marker
 * this test made are ever looked at. */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
export { processesWith as hostProcessesWith } from "../helpers/processes.js";
import os from "node:os";
import path from "node:path";
import { sandbox } from "../helpers/sandbox.js";

/** A marker no other process on the machine has in its command line. */
export function marker(tag: string): string {
  return `warren-esc-${tag}-${process.pid}-${randomBytes(4).toString("hex")}`;
}


/** Per-execution cgroups (`warren-<pid>`) under the delegated root whose launcher is dead: leaks. */
export async function deadLauncherCgroups(): Promise<string[]> {
  const { cgroups } = await sandbox();
  const leaked: string[] = [];
  for (const parent of cgroups) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(parent);
    } catch {
      continue;
    }
    for (const name of names) {
      const match = /^warren-(\d+)$/.exec(name);
      if (match === null) continue;
      if (!pidAlive(Number(match[1]))) leaked.push(path.join(parent, name));
    }
  }
  return leaked;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** Free bytes of the file system holding `dir`. */
export function freeBytes(dir: string): number {
  const stats = fs.statfsSync(dir);
  return stats.bavail * stats.bsize;
}

/**
 * A host-side action that must still complete: spawn a process, write and
 * read back a file. Returns what it read (the caller asserts it).
 */
export function hostAction(): string {
  const echoed = spawnSync("sh", ["-c", "echo host-ok"], { encoding: "utf8", timeout: 30_000 }).stdout;
  const file = path.join(os.tmpdir(), `warren-esc-probe-${process.pid}`);
  fs.writeFileSync(file, echoed);
  const read = fs.readFileSync(file, "utf8");
  fs.rmSync(file);
  return read;
}

/** Prints a measured figure for the report (not asserted beyond its bound). */
export function report(what: string, measured: number, limit: number, unit = "ms"): void {
  console.log(`[escape] ${what}: measured ${measured} ${unit}, limit ${limit} ${unit}`);
}
