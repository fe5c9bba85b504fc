import fsSync from "node:fs";
import fs from "node:fs/promises";
import { mountHolding, readMountInfo, type MountEntry } from "./mountinfo.js";

/** The fix printed for any missing delegation item: delegate the subtree to `user` (SandboxSettings.setupUser). */
export function setupFix(user: string): string {
  return `sudo npx warren setup-cgroups --user ${user}`;
}

export async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

export async function canWrite(file: string): Promise<boolean> {
  try {
    await fs.access(file, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether FILE is on a read-only mount (a container's cgroups). access(W_OK)
 * answers EROFS only to whoever could otherwise write FILE; another user
 * (Warren as uid 10000 facing root's cgroups) hears EACCES, so then the mount
 * holding FILE is looked up in /proc/self/mountinfo. Synchronous: the refusal
 * of a failed cgroup mkdir (cgroup-refusal.ts) is built in a catch, and the
 * probes call it only when something is already wrong.
 */
export function onReadOnlyMount(file: string): boolean {
  try {
    fsSync.accessSync(file, fsSync.constants.W_OK);
    return false;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EROFS") return true;
    if (code !== "EACCES" && code !== "EPERM") return false;
  }
  let mounts: MountEntry[];
  try {
    mounts = readMountInfo();
  } catch {
    return false;
  }
  return mountHolding(file, mounts)?.options.includes("ro") ?? false;
}


/** A whitespace-separated list file (cgroup.controllers, cgroup.subtree_control). */
export async function readWords(file: string): Promise<string[]> {
  try {
    return (await fs.readFile(file, "utf8")).split(/\s+/).filter((word) => word !== "");
  } catch {
    return [];
  }
}
