import fs from "node:fs/promises";
import path from "node:path";
import { CgroupUnavailableError } from "../../errors.js";
import type { MountEntry } from "./mountinfo.js";
import { killPids, readPids, removeCgroupTree, staleChildren } from "./tree.js";
import { REQUIRED_CONTROLLERS, type CgroupCheckItem, type CgroupDriver } from "./types.js";
import { canWrite, exists, onReadOnlyMount, setupFix } from "./probe.js";

/**
 * cgroup v1: one hierarchy per controller (some may be co-mounted, e.g.
 * `cpu,cpuacct`). The root is a path inside each hierarchy, `/warren` by
 * default, i.e. /sys/fs/cgroup/<controller>/warren.
 */
export class CgroupV1Driver implements CgroupDriver {
  readonly version = 1 as const;
  readonly defaultRoot = "/warren";
  readonly #mounts: readonly MountEntry[];

  constructor(mounts: readonly MountEntry[]) {
    this.#mounts = mounts.filter((mount) => mount.fsType === "cgroup");
  }

  /** Each distinct hierarchy directory for `root`, with the controllers it carries. */
  hierarchies(root: string): { dir: string; controllers: string[] }[] {
    checkRoot(root);
    const byDir = new Map<string, string[]>();
    for (const controller of REQUIRED_CONTROLLERS) {
      const mount = this.#mounts.find((entry) => entry.superOptions.includes(controller));
      if (mount === undefined) {
        throw new CgroupUnavailableError(
          `The cgroup v1 controller "${controller}" is not mounted; Warren needs memory, pids, cpu and cpuacct.`,
        );
      }
      const dir = path.join(mount.mountPoint, root);
      byDir.set(dir, [...(byDir.get(dir) ?? []), controller]);
    }
    return [...byDir].map(([dir, controllers]) => ({ dir, controllers }));
  }

  async chooseRoot(configured: string | undefined): Promise<string> {
    return configured ?? this.defaultRoot;
  }

  /** Nothing to take over on v1: a process's place in one hierarchy does not stop another cgroup of it from holding children. */
  async adopt(_root: string): Promise<string[]> {
    return [];
  }

  parents(root: string): string[] {
    return this.hierarchies(root).map((hierarchy) => hierarchy.dir);
  }

  async check(root: string, user = "$USER"): Promise<CgroupCheckItem[]> {
    const items: CgroupCheckItem[] = [];
    for (const { dir, controllers } of this.hierarchies(root)) {
      const name = `cgroup v1 ${controllers.join(",")}: ${dir}`;
      if (!(await exists(dir))) {
        items.push({ name, ok: false, detail: "does not exist", fix: setupFix(user) });
      } else if (!(await canWrite(dir)) || !(await canWrite(path.join(dir, "cgroup.procs")))) {
        const detail = onReadOnlyMount(dir) ? "exists but is on a read-only mount (a container's /sys/fs/cgroup is)" : "exists but is not writable by this user";
        items.push({ name, ok: false, detail, fix: setupFix(user) });
      } else {
        items.push({ name, ok: true, detail: "delegated to this user" });
      }
    }
    return items;
  }

  async delegate(root: string, uid: number, gid: number): Promise<string[]> {
    const done: string[] = [];
    for (const { dir } of this.hierarchies(root)) {
      const made = !(await exists(dir));
      await fs.mkdir(dir, { recursive: true });
      await fs.chown(dir, uid, gid);
      // v1 has no cgroup.subtree_control; the files that matter are
      // cgroup.procs (to move processes) and the limit files the launcher sets
      // in its per-execution children, which the kernel creates owned by the
      // creator. Chown all of them so the delegate owns its whole directory.
      for (const file of await fs.readdir(dir, { withFileTypes: true })) {
        if (file.isFile()) await fs.chown(path.join(dir, file.name), uid, gid);
      }
      done.push(`${made ? "made" : "kept"} ${dir} and gave it (and its files) to ${uid}:${gid}`);
    }
    return done;
  }

  async makeSubtree(root: string): Promise<void> {
    for (const dir of this.parents(root)) await fs.mkdir(dir, { recursive: true });
  }

  async reapStale(root: string): Promise<string[]> {
    const removed: string[] = [];
    for (const parent of this.parents(root)) {
      for (const dir of await staleChildren(parent)) {
        await removeCgroupTree(dir, async (cgroup) => killPids(await readPids(cgroup)));
        removed.push(dir);
      }
    }
    return removed;
  }
}

function checkRoot(root: string): void {
  if (!root.startsWith("/") || root.split("/").includes("..")) {
    throw new CgroupUnavailableError(
      `WARREN_CGROUP_ROOT=${root} is not usable on cgroup v1: give an absolute path inside each hierarchy, e.g. /warren.`,
    );
  }
}
