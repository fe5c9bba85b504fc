import fs from "node:fs/promises";

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

/** Whether FILE is on a read-only mount (a container's cgroups): access(W_OK) answers EROFS whoever asks. */
export async function readOnlyMount(file: string): Promise<boolean> {
  try {
    await fs.access(file, fs.constants.W_OK);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EROFS";
  }
}

/** A whitespace-separated list file (cgroup.controllers, cgroup.subtree_control). */
export async function readWords(file: string): Promise<string[]> {
  try {
    return (await fs.readFile(file, "utf8")).split(/\s+/).filter((word) => word !== "");
  } catch {
    return [];
  }
}
