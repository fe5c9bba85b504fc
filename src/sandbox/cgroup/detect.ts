import fs from "node:fs";
import { CgroupUnavailableError } from "../../errors.js";
import { readMountInfo, type MountEntry } from "./mountinfo.js";
import type { CgroupDriver } from "./types.js";
import { CgroupV1Driver } from "./v1.js";
import { CgroupV2Driver } from "./v2.js";

export const CGROUP_MOUNT = "/sys/fs/cgroup";
const CGROUP2_SUPER_MAGIC = 0x63677270;

export type CgroupLayout = { version: 1 } | { version: 2; mountPoint: string };

/**
 * Pure v2 when /sys/fs/cgroup itself is cgroup2. Otherwise v1 (or hybrid: a
 * cgroup2 mount at /sys/fs/cgroup/unified that carries no memory controller
 * counts as v1) when the memory controller has a v1 hierarchy.
 */
export function chooseLayout(mounts: readonly MountEntry[], sysFsCgroupIsCgroup2: boolean): CgroupLayout {
  const top = mounts.filter((mount) => mount.mountPoint === CGROUP_MOUNT).at(-1);
  if (sysFsCgroupIsCgroup2 || top?.fsType === "cgroup2") return { version: 2, mountPoint: CGROUP_MOUNT };
  if (mounts.some((mount) => mount.fsType === "cgroup" && mount.superOptions.includes("memory"))) return { version: 1 };
  throw new CgroupUnavailableError(
    `No usable cgroup hierarchy: ${CGROUP_MOUNT} is not cgroup2 and no cgroup v1 hierarchy has the memory controller. Run \`warren doctor\`.`,
  );
}

/** Picks the driver for this machine. */
export function detectCgroupDriver(): CgroupDriver {
  const mounts = readMountInfo();
  let isCgroup2 = false;
  try {
    isCgroup2 = fs.statfsSync(CGROUP_MOUNT).type === CGROUP2_SUPER_MAGIC;
  } catch {
    // no /sys/fs/cgroup at all: chooseLayout reports it
  }
  const layout = chooseLayout(mounts, isCgroup2);
  return layout.version === 2 ? new CgroupV2Driver(layout.mountPoint) : new CgroupV1Driver(mounts);
}

/** `root` (WARREN_CGROUP_ROOT, SandboxSettings.cgroupRoot) when set, else the driver's default (what `setup-cgroups` delegates; a runner asks CgroupDriver.chooseRoot, which may pick its own delegated cgroup on v2). */
export function resolveCgroupRoot(driver: CgroupDriver, root: string | undefined): string {
  return root ?? driver.defaultRoot;
}
