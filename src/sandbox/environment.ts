import { resolveDataDir } from "../config/data-dir.js";
import { CgroupUnavailableError } from "../errors.js";
import { detectCgroupDriver, resolveCgroupRoot } from "./cgroup/detect.js";
import type { CgroupDriver } from "./cgroup/types.js";
import { loadHostImage } from "./images/host-image.js";
import { requireLauncher } from "./launcher-path.js";
import type { Sandbox } from "../worker/run-job.js";

export interface SandboxEnvironment extends Sandbox {
  readonly driver: CgroupDriver;
  readonly cgroupRoot: string;
  readonly dataDir: string;
  readonly launcher: string;
}

export interface OpenOptions {
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Reap leftover per-execution cgroups first (CgroupDriver.reapStale): those
   * named after a launcher pid that no longer exists, so a live run of another
   * runner sharing the root is never touched.
   * @defaultValue true
   */
  readonly reapStale?: boolean;
}

/**
 * Everything a job needs, checked: the launcher binary, the host image, and
 * a delegated cgroup root. Warren never runs without limits: when the cgroup
 * root is not usable this throws CgroupUnavailableError saying how to fix it.
 */
export async function openSandbox(options: OpenOptions = {}): Promise<SandboxEnvironment> {
  const env = options.env ?? process.env;
  const launcher = requireLauncher(env);
  const driver = detectCgroupDriver();
  const cgroupRoot = resolveCgroupRoot(driver, env);
  const problems = (await driver.check(cgroupRoot)).filter((item) => !item.ok);
  if (problems.length > 0) {
    const list = problems.map((item) => `  ✗ ${item.name}: ${item.detail}`).join("\n");
    throw new CgroupUnavailableError(
      `No usable delegated cgroup at ${cgroupRoot} (cgroup v${driver.version}); Warren will not run code without limits.\n${list}\n` +
        `Run \`warren doctor\` for details, then \`sudo npx warren setup-cgroups --user ${env.USER ?? "$USER"}\` (or set WARREN_CGROUP_ROOT).`,
      { problems },
    );
  }
  if (options.reapStale !== false) await driver.reapStale(cgroupRoot);
  const dataDir = resolveDataDir(env);
  const image = loadHostImage(dataDir);
  return { driver, cgroupRoot, dataDir, launcher, image, cgroups: driver.parents(cgroupRoot) };
}
