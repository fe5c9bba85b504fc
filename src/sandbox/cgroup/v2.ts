import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { CgroupUnavailableError } from "../../errors.js";
import { canWrite, exists, onReadOnlyMount, readWords, setupFix } from "./probe.js";
import { killPids, readPids, removeCgroupTree, staleChildren } from "./tree.js";
import { SUPERVISOR_CGROUP, type CgroupCheckItem, type CgroupDriver } from "./types.js";

/** The v2 controllers Warren enables (CPU time accounting is always on in v2's cpu.stat). */
export const V2_CONTROLLERS = ["memory", "pids", "cpu"] as const;

/** The files a delegatee must own (Documentation/admin-guide/cgroup-v2.rst, "Delegation"). */
const DELEGATED_FILES = ["cgroup.procs", "cgroup.threads", "cgroup.subtree_control"] as const;

/**
 * cgroup v2: one unified hierarchy. The root is an absolute directory inside
 * the cgroup2 mount, /sys/fs/cgroup/warren by default. Per-execution cgroups
 * are its children; the runner itself sits in the `supervisor` leaf, because
 * of two kernel rules:
 * - "no internal processes": a cgroup that hands controllers to its children
 *   (cgroup.subtree_control) cannot hold processes itself;
 * - moving a process (cgroup.procs write, or clone3 CLONE_INTO_CGROUP) needs
 *   write access to cgroup.procs of the common ancestor of the source and the
 *   destination: for an unprivileged runner that ancestor must be inside the
 *   delegated subtree, so the runner must already live under the root.
 */
export class CgroupV2Driver implements CgroupDriver {
  readonly version = 2 as const;
  readonly #mountPoint: string;

  constructor(mountPoint: string) {
    this.#mountPoint = mountPoint;
  }

  get defaultRoot(): string {
    return path.join(this.#mountPoint, "warren");
  }

  parents(root: string): string[] {
    this.#checkRoot(root);
    return [root];
  }

  /**
   * WARREN_CGROUP_ROOT when set. Unset: the default root when it exists (made
   * by `warren setup-cgroups`); else this process's own cgroup when it is
   * delegated to this user (a container's own cgroup behind a cgroup
   * namespace, mounted writable; a systemd unit's with Delegate=yes), which
   * `adopt` then takes over; else the default root, which root makes and
   * anyone else is told how to delegate.
   */
  async chooseRoot(configured: string | undefined): Promise<string> {
    if (configured !== undefined) return configured;
    if (await exists(this.defaultRoot)) return this.defaultRoot;
    const own = await ownCgroup(this.#mountPoint);
    if (own !== undefined && (await this.#adoptable(own))) return own;
    return this.defaultRoot;
  }

  /**
   * Whether DIR, this process's own cgroup, may be taken over as the root: a
   * real cgroup (the hierarchy's root has no cgroup.type and can never be
   * one), delegated to this user (its cgroup.procs and cgroup.subtree_control
   * writable). As root only when DIR is a cgroup namespace's root (a
   * container's, seen at the mount point): a root shell on a host sits in its
   * session's cgroup, which is not Warren's to rearrange.
   */
  async #adoptable(dir: string): Promise<boolean> {
    if (!(await exists(path.join(dir, "cgroup.type")))) return false;
    if (!(await canWrite(path.join(dir, "cgroup.procs"))) || !(await canWrite(path.join(dir, "cgroup.subtree_control")))) return false;
    return process.getuid?.() !== 0 || dir === this.#mountPoint;
  }

  async adopt(root: string): Promise<string[]> {
    this.#checkRoot(root);
    if ((await ownCgroup(this.#mountPoint)) !== root) return [];
    const supervisor = path.join(root, SUPERVISOR_CGROUP);
    const done: string[] = [];
    let step = `mkdir ${supervisor}`;
    try {
      try {
        await fs.mkdir(supervisor);
        done.push(`made the leaf ${supervisor} for the runner process`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      // Every process of ROOT moves (a container's init beside Warren): a
      // cgroup that holds processes cannot enable controllers for its children.
      const into = path.join(supervisor, "cgroup.procs");
      let moved = 0;
      for (let round = 0; round < 100; round += 1) {
        step = `reading ${root}/cgroup.procs`;
        const pids = await readPids(root);
        if (pids.length === 0) break;
        for (const pid of pids) {
          step = `moving pid ${pid} into ${supervisor}`;
          try {
            await fs.writeFile(into, String(pid));
            moved += 1;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
          }
        }
      }
      done.push(`moved ${moved} process(es) of ${root}, this one included, into ${supervisor}`);
      step = `enabling memory, pids and cpu in ${root}/cgroup.subtree_control`;
      done.push(...(await enableControllers(root)));
    } catch (error) {
      throw adoptError(root, step, error);
    }
    return done;
  }

  async check(root: string, user = "$USER"): Promise<CgroupCheckItem[]> {
    this.#checkRoot(root);
    const items: CgroupCheckItem[] = [];
    if (!(await exists(root))) {
      return [{ name: `cgroup v2 root ${root}`, ok: false, detail: "does not exist", fix: setupFix(user) }];
    }
    const writable = (await canWrite(root)) && (await canWrite(path.join(root, "cgroup.procs"))) && (await canWrite(path.join(root, "cgroup.subtree_control")));
    items.push({
      name: `cgroup v2 root ${root}`,
      ok: writable,
      detail: writable
        ? "delegated to this user"
        : onReadOnlyMount(root)
          ? "exists but is on a read-only mount (a container's /sys/fs/cgroup is)"
          : "exists but this user cannot write it (or its cgroup.procs, cgroup.subtree_control)",
      ...(writable ? {} : { fix: setupFix(user) }),
    });
    const available = await readWords(path.join(root, "cgroup.controllers"));
    const enabled = await readWords(path.join(root, "cgroup.subtree_control"));
    for (const controller of V2_CONTROLLERS) {
      const name = `cgroup v2 controller ${controller} enabled for ${root}'s children`;
      if (enabled.includes(controller)) items.push({ name, ok: true, detail: "in cgroup.subtree_control" });
      else if (available.includes(controller))
        items.push({ name, ok: false, detail: "available but not enabled in cgroup.subtree_control", fix: `echo +${controller} > ${root}/cgroup.subtree_control` });
      else items.push({ name, ok: false, detail: "not available in cgroup.controllers (not enabled by the parent)", fix: setupFix(user) });
    }
    items.push(await this.#checkPlacement(root));
    return items;
  }

  async #checkPlacement(root: string): Promise<CgroupCheckItem> {
    const name = "this process runs inside the delegated subtree";
    const own = await ownCgroup(this.#mountPoint);
    const inside = own !== undefined && own.startsWith(root + "/");
    if (inside) return { name, ok: true, detail: `in ${own}` };
    if (process.getuid?.() === 0) return { name, ok: true, detail: `in ${own ?? "?"}; not needed when running as root` };
    return {
      name,
      ok: false,
      detail: `in ${own ?? "an unknown cgroup"}: moving sandboxes into ${root} needs write access to the common ancestor's cgroup.procs, so the runner must live in ${root}/${SUPERVISOR_CGROUP}`,
      fix: `start Warren from a systemd unit with Delegate=yes, or: echo $$ | sudo tee ${root}/${SUPERVISOR_CGROUP}/cgroup.procs (then start warren from that shell)`,
    };
  }

  async delegate(root: string, uid: number, gid: number): Promise<string[]> {
    this.#checkRoot(root);
    const done: string[] = [];
    // Controllers must be enabled in every ancestor's subtree_control, from the mount down.
    const ancestors: string[] = [];
    for (let dir = path.dirname(root); dir.startsWith(this.#mountPoint); dir = path.dirname(dir)) {
      ancestors.unshift(dir);
      if (dir === this.#mountPoint) break;
    }
    for (const dir of ancestors) done.push(...(await enableControllers(dir)));
    if (!(await exists(root))) {
      await fs.mkdir(root);
      done.push(`made ${root}`);
    }
    done.push(...(await enableControllers(root)));
    const supervisor = path.join(root, SUPERVISOR_CGROUP);
    if (!(await exists(supervisor))) {
      await fs.mkdir(supervisor);
      done.push(`made the leaf ${supervisor} for the runner process`);
    }
    for (const dir of [root, supervisor]) {
      await fs.chown(dir, uid, gid);
      for (const file of DELEGATED_FILES) await fs.chown(path.join(dir, file), uid, gid);
      done.push(`gave ${dir} and its ${DELEGATED_FILES.join(", ")} to ${uid}:${gid}`);
    }
    return done;
  }

  async makeSubtree(root: string): Promise<void> {
    this.#checkRoot(root);
    await fs.mkdir(root, { recursive: true });
    await enableControllers(root);
  }

  async reapStale(root: string): Promise<string[]> {
    this.#checkRoot(root);
    const removed: string[] = [];
    for (const dir of await staleChildren(root)) {
      await removeCgroupTree(dir, killCgroup);
      removed.push(dir);
    }
    return removed;
  }

  #checkRoot(root: string): void {
    // the mount point itself only where it is not the hierarchy's root: a cgroup namespace's (a container's own cgroup)
    const below = root.startsWith(this.#mountPoint + "/") || (root === this.#mountPoint && existsSync(path.join(root, "cgroup.type")));
    if (!path.isAbsolute(root) || root.split("/").includes("..") || !below) {
      throw new CgroupUnavailableError(
        `WARREN_CGROUP_ROOT=${root} is not usable on cgroup v2: give an absolute directory below the cgroup2 mount ${this.#mountPoint}, e.g. ${this.defaultRoot}.`,
      );
    }
  }
}

function adoptError(root: string, what: string, error: unknown): CgroupUnavailableError {
  return new CgroupUnavailableError(
    `Could not take over this process's own cgroup ${root} as Warren's cgroup root (${what}: ${(error as Error).message}). ` +
      `Warren moves every process of it into ${root}/${SUPERVISOR_CGROUP} and enables memory, pids and cpu for its children; ` +
      `set WARREN_CGROUP_ROOT to a delegated directory instead, or run \`warren doctor\`.`,
  );
}

/** Adds each missing Warren controller to `dir`'s cgroup.subtree_control. */
async function enableControllers(dir: string): Promise<string[]> {
  const file = path.join(dir, "cgroup.subtree_control");
  const enabled = await readWords(file);
  const done: string[] = [];
  for (const controller of V2_CONTROLLERS) {
    if (enabled.includes(controller)) continue;
    try {
      await fs.writeFile(file, `+${controller}`);
    } catch (error) {
      throw new CgroupUnavailableError(
        `Could not enable the ${controller} controller in ${file}: ${(error as Error).message}. ` +
          `(EBUSY means ${dir} holds processes itself; ENOENT/EINVAL that its parent does not offer ${controller}.)`,
      );
    }
    done.push(`enabled +${controller} in ${file}`);
  }
  return done;
}

/** Kills everything in a cgroup subtree: cgroup.kill (Linux 5.14+), else each pid. */
async function killCgroup(dir: string): Promise<void> {
  try {
    await fs.writeFile(path.join(dir, "cgroup.kill"), "1");
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "EACCES" && code !== "EINVAL") throw error;
  }
  killPids(await readPids(dir));
}

/** This process's cgroup v2 directory, from /proc/self/cgroup's `0::` line. */
async function ownCgroup(mountPoint: string): Promise<string | undefined> {
  const text = await fs.readFile("/proc/self/cgroup", "utf8");
  const line = text.split("\n").find((entry) => entry.startsWith("0::"));
  // outside its cgroup namespace's root the kernel names it with ".." steps: no directory of this mount
  if (line === undefined || line.slice(3).split("/").includes("..")) return undefined;
  const dir = path.join(mountPoint, line.slice(3));
  return dir.length > 1 && dir.endsWith("/") ? dir.slice(0, -1) : dir;
}
