import path from "node:path";
import { resolveDataDir } from "../config/data-dir.js";
import type { SandboxSettings } from "../config/settings.js";
import { CgroupUnavailableError } from "../errors.js";
import { detectCgroupDriver } from "./cgroup/detect.js";
import { onReadOnlyMount, setupFix } from "./cgroup/probe.js";
import { cgroupRuntimeFix } from "./container-signs.js";
import { refusingCgroupErrors } from "./cgroup-refusal.js";
import type { CgroupDriver } from "./cgroup/types.js";
import { ContainerPool } from "./container/container-pool.js";
import { PreparedBudget } from "./container/prepared-budget.js";
import { requireLauncher } from "./container/launcher-path.js";
import { ImageCatalog } from "./images/catalog.js";
import { loadHostImage, type Image } from "./images/host-image.js";
import { assertSandboxCanReach } from "./sandbox-reach.js";

/**
 * What sandboxes are made from on this machine: the installed images, the
 * delegated cgroup parents, the launcher and the pool of containers made
 * ahead. Each job's sandbox is one container made from it (runJob).
 */
export interface SandboxHost {
  /** The default image (the host image); a job runs in the image that provides its language. */
  readonly image: Image;
  /** Every installed image; without it, only `image`. */
  readonly catalog?: ImageCatalog;
  /** CgroupDriver.parents(root). */
  readonly cgroups: readonly string[];
  /** The launcher binary; default the built one (or WARREN_LAUNCHER). */
  readonly launcher?: string;
  /** Start launchers with child_process.spawn instead of posix_spawn (WARREN_NODE_SPAWN). @defaultValue false */
  readonly nodeSpawn?: boolean;
  /** Every container's /proc is the launcher's own, bound (WARREN_BIND_PROC; SECURITY.md, *Inside a container*). @defaultValue false */
  readonly bindProc?: boolean;
  /** Containers made ahead of time; without it each job makes its own. Its `budget` bounds every container made ahead, the functions' too. */
  readonly pool?: ContainerPool;
}

/** How many containers a host keeps made ahead in total, per unit of WARREN_POOL_SIZE (runs' pool and functions' warm containers together). */
export const PREPARED_PER_POOL_SIZE = 8;

/** The SandboxHost that openSandboxHost() found and checked, with what it found. */
export interface OpenedSandboxHost extends SandboxHost {
  readonly catalog: ImageCatalog;
  readonly driver: CgroupDriver;
  readonly cgroupRoot: string;
  readonly dataDir: string;
  readonly launcher: string;
}

export interface OpenOptions {
  /** The data dir, already found (an image being installed there); default resolveDataDir(settings.dataDir). */
  readonly dataDir?: string;
  /**
   * Reap leftover per-execution cgroups first (CgroupDriver.reapStale): those
   * named after a launcher pid that no longer exists, so a live run of another
   * runner sharing the root is never touched.
   * @defaultValue true
   */
  readonly reapStale?: boolean;
  /**
   * Keep containers ready ahead of jobs (a long-lived server or worker):
   * `settings.poolSize` (WARREN_POOL_SIZE) ready containers per kind at most (0: no pool),
   * and PREPARED_PER_POOL_SIZE times that in total, runs' and functions' together.
   * @defaultValue false
   */
  readonly pool?: boolean;
}

/**
 * Everything a job needs, checked: the launcher binary, the host image, and
 * a delegated cgroup root. Warren never runs without limits: when the cgroup
 * root is not usable this throws CgroupUnavailableError saying how to fix it.
 */
export async function openSandboxHost(settings: SandboxSettings, options: OpenOptions = {}): Promise<OpenedSandboxHost> {
  const launcher = requireLauncher(settings.launcher);
  const driver = detectCgroupDriver();
  const cgroupRoot = await driver.chooseRoot(settings.cgroupRoot);
  await driver.adopt(cgroupRoot); // its refusals are Warren's (CgroupUnavailableError)
  let problems = (await driver.check(cgroupRoot, settings.setupUser)).filter((item) => !item.ok);
  // a container's cgroups: the root itself, or (a root that is not there) the directory it would be made in;
  // looked for only when something is wrong (nothing of it on a usable host's start-up)
  const dirs = problems.length > 0 ? driver.parents(cgroupRoot).flatMap((dir) => [dir, path.dirname(dir)]) : [];
  const readOnly = dirs.find((dir) => onReadOnlyMount(dir));
  // (on a read-only mount there is nothing to make: the refusal below says so, with the runtime's fix)
  if (problems.length > 0 && process.getuid?.() === 0 && readOnly === undefined) {
    // As root there is no one to delegate to: make the subtree ourselves (what
    // `setup-cgroups --user root` would do), so `warren serve` works on a fresh machine.
    await refusingCgroupErrors("delegate", cgroupRoot, settings.setupUser, () => driver.delegate(cgroupRoot, 0, 0));
    problems = (await driver.check(cgroupRoot, settings.setupUser)).filter((item) => !item.ok);
  }
  if (problems.length > 0) {
    const list = problems.map((item) => `  ✗ ${item.name}: ${item.detail}`).join("\n");
    throw new CgroupUnavailableError(
      `No usable delegated cgroup at ${cgroupRoot} (cgroup v${driver.version}); Warren will not run code without limits.\n${list}\n` +
        `Run \`warren doctor\` for details, then \`${setupFix(settings.setupUser)}\` (or set WARREN_CGROUP_ROOT).` +
        (readOnly === undefined ? "" : `\n${readOnly} is on a read-only mount. Inside a container: ${cgroupRuntimeFix(driver.version)}.`),
      { problems },
    );
  }
  if (options.reapStale !== false) await refusingCgroupErrors("reap", cgroupRoot, settings.setupUser, () => driver.reapStale(cgroupRoot));
  const dataDir = options.dataDir ?? resolveDataDir(settings.dataDir);
  const image = loadHostImage(dataDir);
  assertSandboxCanReach(image.rootfs);
  // Every installed image, re-read when one is added or removed; what crashed imports left is swept.
  const catalog = new ImageCatalog(dataDir, image);
  catalog.store.sweep();
  const pool =
    options.pool === true && settings.poolSize > 0
      ? new ContainerPool({ maxIdle: settings.poolSize, budget: new PreparedBudget(PREPARED_PER_POOL_SIZE * settings.poolSize) })
      : undefined;
  const nodeSpawn = settings.nodeSpawn;
  const bindProc = settings.bindProc;
  return { driver, cgroupRoot, dataDir, launcher, nodeSpawn, bindProc, image, catalog, cgroups: driver.parents(cgroupRoot), ...(pool === undefined ? {} : { pool }) };
}
