import fs from "node:fs";
import { resolveDataDir } from "../config/data-dir.js";
import type { SandboxSettings } from "../config/settings.js";
import { WarrenError } from "../errors.js";
import { detectCgroupDriver, resolveCgroupRoot } from "./cgroup/detect.js";
import { loadHostImage, type Image } from "./images/host-image.js";
import { containerArgs } from "./container/launch-args.js";
import { launcherPath } from "./container/launcher-path.js";
import { launchOnce } from "./container/one-shot.js";

/** One line of `warren doctor`. */
export interface DoctorItem {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** The exact command (or action) that fixes it. */
  readonly fix?: string;
}

function readSysctl(file: string): string | undefined {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** User namespaces: the sysctls that can forbid them to an unprivileged user. */
function userNamespaceItems(): DoctorItem[] {
  const items: DoctorItem[] = [];
  const max = readSysctl("/proc/sys/user/max_user_namespaces");
  items.push({
    name: "user namespaces allowed (user.max_user_namespaces)",
    ok: max !== undefined && Number(max) > 0,
    detail: max === undefined ? "the kernel has no user namespaces (CONFIG_USER_NS)" : `= ${max}`,
    fix: "sudo sysctl -w user.max_user_namespaces=15000 && echo user.max_user_namespaces=15000 | sudo tee /etc/sysctl.d/50-warren.conf",
  });
  const debian = readSysctl("/proc/sys/kernel/unprivileged_userns_clone");
  if (debian !== undefined) {
    items.push({
      name: "unprivileged user namespaces (kernel.unprivileged_userns_clone)",
      ok: debian === "1",
      detail: `= ${debian}`,
      fix: "sudo sysctl -w kernel.unprivileged_userns_clone=1 && echo kernel.unprivileged_userns_clone=1 | sudo tee -a /etc/sysctl.d/50-warren.conf",
    });
  }
  const apparmor = readSysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
  items.push({
    name: "AppArmor does not restrict user namespaces (kernel.apparmor_restrict_unprivileged_userns)",
    ok: apparmor === undefined || apparmor === "0",
    detail: apparmor === undefined ? "not present on this kernel" : `= ${apparmor}`,
    fix: "sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (or install an AppArmor profile granting `userns` to warren-launch)",
  });
  return items;
}

function seccompItem(): DoctorItem {
  const status = fs.readFileSync("/proc/self/status", "utf8");
  const line = status.split("\n").find((entry) => entry.startsWith("Seccomp:"));
  return {
    name: "seccomp filters available",
    ok: line !== undefined,
    detail: line === undefined ? "the kernel was built without CONFIG_SECCOMP" : line.replace(/\s+/g, " "),
    fix: "use a kernel with CONFIG_SECCOMP_FILTER (every distribution kernel has it)",
  };
}

function launcherItem(file: string): DoctorItem {
  let ok = true;
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    ok = false;
  }
  return { name: "the launcher is built", ok, detail: file, fix: "npm run build:native (needs cc and make)" };
}

/** What to do about a launcher step that failed. */
function fixForStep(step: string): string {
  if (step.startsWith("userns") || step === "clone-namespaces" || step === "setgroups")
    return "user namespaces are refused: fix the user-namespace items above";
  if (step === "mount-overlay") return "overlayfs inside a user namespace needs Linux 5.11 or later";
  if (step.startsWith("cgroup")) return "fix the cgroup items above";
  if (step === "seccomp") return "the kernel refused the seccomp filter: fix the seccomp item above";
  return "report this with the output of `warren doctor`";
}

async function trialItem(name: string, launcher: string, args: string[]): Promise<DoctorItem> {
  const outcome = await launchOnce(launcher, args);
  const status = outcome.status;
  if (status === undefined) {
    return { name, ok: false, detail: `no status from the launcher (exit ${outcome.exitCode}): ${outcome.stderr}`, fix: "npm run build:native" };
  }
  if (status.status === "internal_error") {
    return { name, ok: false, detail: `step ${status.step} failed: ${status.message}`, fix: fixForStep(status.step) };
  }
  const ok = status.status === "ok" && status.exitCode === 0;
  return { name, ok, detail: ok ? `/bin/true ran in ${status.wallTimeMs.toFixed(1)} ms` : `status ${status.status}, exit ${status.exitCode}` };
}

export interface DoctorSection {
  readonly title: string;
  readonly items: readonly DoctorItem[];
}

/** Every prerequisite of rootless sandboxes, checked on this host, and a real trial run. */
export async function runDoctor(settings: SandboxSettings): Promise<DoctorSection[]> {
  const sections: DoctorSection[] = [];
  sections.push({ title: "kernel", items: [...userNamespaceItems(), seccompItem()] });

  const cgroupItems: DoctorItem[] = [];
  let parents: string[] = [];
  try {
    const driver = detectCgroupDriver();
    const root = resolveCgroupRoot(driver, settings.cgroupRoot);
    cgroupItems.push({ name: "cgroup version", ok: true, detail: `v${driver.version}, root ${root} (WARREN_CGROUP_ROOT)` });
    const checks = await driver.check(root, settings.setupUser);
    cgroupItems.push(...checks);
    if (checks.every((item) => item.ok)) parents = driver.parents(root);
  } catch (error) {
    if (!(error instanceof WarrenError)) throw error;
    cgroupItems.push({ name: "cgroup version", ok: false, detail: error.message, fix: "mount cgroup v2 at /sys/fs/cgroup (or the v1 memory, pids, cpu, cpuacct hierarchies)" });
  }
  sections.push({ title: "cgroups", items: cgroupItems });

  const launcher = launcherPath(settings.launcher);
  const sandboxItems: DoctorItem[] = [launcherItem(launcher)];
  let image: Image | undefined;
  try {
    image = loadHostImage(resolveDataDir(settings.dataDir));
    sandboxItems.push({ name: "host image root", ok: true, detail: image.rootfs });
  } catch (error) {
    if (!(error instanceof WarrenError) && !(error instanceof Error)) throw error;
    sandboxItems.push({ name: "host image root", ok: false, detail: (error as Error).message, fix: "set WARREN_DATA_DIR to a directory you can write" });
  }
  if (sandboxItems.every((item) => item.ok) && image !== undefined) {
    const container = containerArgs({ rootfs: image.rootfs, binds: image.binds });
    const base = [...container, "--wall-ms", "10000", "--status-fd", "3"];
    sandboxItems.push(await trialItem("a sandbox runs (user namespace, overlay, seccomp)", launcher, [...base, "--", "/bin/true"]));
    if (parents.length > 0) {
      const cgroups = parents.flatMap((parent) => ["--cgroup", parent]);
      sandboxItems.push(await trialItem("a sandbox runs with cgroup limits", launcher, [...base, ...cgroups, "--memory-mb", "64", "--pids", "16", "--cpu-ms", "5000", "--", "/bin/true"]));
    }
  }
  sections.push({ title: "sandbox", items: sandboxItems });
  return sections;
}
