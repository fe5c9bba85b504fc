import fs from "node:fs";
import { resolveDataDir } from "../config/data-dir.js";
import type { SandboxSettings } from "../config/settings.js";
import { WarrenError } from "../errors.js";
import { detectCgroupDriver } from "./cgroup/detect.js";
import { loadHostImage, type Image } from "./images/host-image.js";
import { containerArgs } from "./container/launch-args.js";
import { launcherPath } from "./container/launcher-path.js";
import { launchOnce } from "./container/one-shot.js";
import { describeSigns, parseIdMap, readContainerSigns, cgroupRuntimeFix, rootOutside, RUNTIME_FIXES, type ContainerSigns } from "./container-signs.js";

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

/** The steps that mount (mounts.c): a runtime's seccomp profile or AppArmor profile refuses them. */
const MOUNT_STEPS = new Set(["mount-private", "mount-scratch", "mount-overlay", "bind", "mount-dev", "dev-node", "bind-shm", "remount-dev-ro", "mask-proc", "proc-sys-ro", "bind-tmp", "bind-workdir", "pivot-root", "umount-oldroot", "bind-proc"]);

const EROFS = 30;

/** What to do about a launcher step that failed (with ERRNO); inside a container, the runtime's options for it. */
function fixForStep(step: string, errno: number | null, inContainer: boolean): string {
  const userns = step.startsWith("userns") || step === "clone-namespaces" || step === "setgroups" || step === "unshare-net" || step === "setns-net";
  // the sandbox's user-namespace limits are written under /proc/sys/user: a runtime's read-only /proc/sys
  // (one of its "system paths", beside the masked entries) refuses them before any mount is tried
  const procSysReadOnly = step === "userns-limits" && errno === EROFS;
  if (inContainer) {
    if (procSysReadOnly) return `/proc/sys is read-only in this container (the runtime's system paths): ${RUNTIME_FIXES.proc}`;
    // no seccomp profile refuses a write(): what else refuses one there is an LSM (docker-default's AppArmor denies /proc/sys writes)
    if (step === "userns-limits") return `${RUNTIME_FIXES.apparmor}; and ${RUNTIME_FIXES.proc}`;
    if (step === "mount-proc") return RUNTIME_FIXES.proc;
    if (step === "userns-uid-map" || step === "userns-gid-map" || step === "setgroups") return `${RUNTIME_FIXES.user}; and ${RUNTIME_FIXES.seccomp}`;
    if (userns) return RUNTIME_FIXES.seccomp;
    if (MOUNT_STEPS.has(step)) return `${RUNTIME_FIXES.seccomp}; and ${RUNTIME_FIXES.apparmor}`;
    if (step.startsWith("cgroup")) return `${RUNTIME_FIXES.cgroups}; ${RUNTIME_FIXES.user}`;
    if (step === "seccomp") return `the kernel refused Warren's own filter: ${RUNTIME_FIXES.seccomp}`;
    // whatever else a runtime refuses: everything it must allow, at once (docs/service.md, Running Warren in a container)
    return `allow what Warren needs: ${RUNTIME_FIXES.seccomp}; ${RUNTIME_FIXES.apparmor}; ${RUNTIME_FIXES.proc}; ${RUNTIME_FIXES.user}`;
  }
  if (procSysReadOnly) return "/proc/sys is mounted read-only: Warren writes the sandboxes' user-namespace limits there; mount it read-write (or run Warren where it is)";
  if (userns) return "user namespaces are refused: fix the user-namespace items above";
  if (step === "mount-overlay") return "overlayfs inside a user namespace needs Linux 5.11 or later";
  if (step === "mount-proc") return "a fresh /proc was refused: something is mounted over part of /proc (a container's masks?); unmount it, or set WARREN_BIND_PROC=1 (SECURITY.md, Inside a container)";
  if (step.startsWith("cgroup")) return "fix the cgroup items above";
  if (step === "seccomp") return "the kernel refused the seccomp filter: fix the seccomp item above";
  return "report this with the output of `warren doctor`";
}

/** What each "degraded" of the launcher means for the sandboxes (docs/launcher.md, Inside a container). */
const DEGRADED: Readonly<Record<string, string>> = {
  hostname: "sethostname refused: sandboxes see this container's hostname (SECURITY.md, Inside a container; to give them their own, allow sethostname: the warren.json seccomp profile does)",
  proc: "WARREN_BIND_PROC=1: sandboxes get this container's /proc, bound, with Warren's masks (SECURITY.md, Inside a container)",
  "userns-limits": "/proc/sys is read-only here: the sandboxes' user namespaces go without their per-user limits (the seccomp filter still refuses namespaces; inotify is bounded by this user's limits only: SECURITY.md, Inside a container; to keep them, the runtime's option that unmasks /proc)",
};

async function trialItem(name: string, launcher: string, args: string[], inContainer: boolean): Promise<DoctorItem> {
  const outcome = await launchOnce(launcher, args);
  const status = outcome.status;
  if (status === undefined) {
    return { name, ok: false, detail: `no status from the launcher (exit ${outcome.exitCode}): ${outcome.stderr}`, fix: "npm run build:native" };
  }
  if (status.status === "internal_error") {
    return { name, ok: false, detail: `step ${status.step} failed: ${status.message}`, fix: fixForStep(status.step, status.errno, inContainer) };
  }
  const ok = status.status === "ok" && status.exitCode === 0;
  const degraded = outcome.degraded.map((what) => `; degraded: ${DEGRADED[what] ?? what}`).join("");
  return { name, ok, detail: ok ? `/bin/true ran in ${status.wallTimeMs.toFixed(1)} ms${degraded}` : `status ${status.status}, exit ${status.exitCode}` };
}

/** CAP_SETUID, CAP_SETGID, CAP_SYS_ADMIN: what the launcher uses as root (to map the sandbox uid). */
const ROOT_CAPS = (1n << 6n) | (1n << 7n) | (1n << 21n);
/** CAP_SETFCAP: since Linux 5.12 the kernel maps uid 0 of a namespace into a new one only for a holder of it (a user-namespaced container's root maps sandboxes to itself). */
const CAP_SETFCAP = 1n << 31n;

function effectiveCaps(): bigint | undefined {
  const hex = /^CapEff:\s*([0-9a-f]+)/m.exec(readSysctl("/proc/self/status") ?? "")?.[1];
  return hex === undefined ? undefined : BigInt(`0x${hex}`);
}

/** Inside a container: what it is seen by, and what the runtime must allow that it does not. */
function containerItems(signs: ContainerSigns, bindProc: boolean): DoctorItem[] {
  const seen = describeSigns(signs);
  const items: DoctorItem[] = [{ name: "inside a container", ok: true, detail: seen.length === 0 ? "no sign of one" : `yes: ${seen.join("; ")}` }];
  if (seen.length === 0) return items;
  const masked = !signs.freshProcAllowed;
  items.push({
    name: "a fresh /proc can be mounted (no masked /proc entries)",
    ok: !masked || bindProc,
    detail: !masked
      ? signs.procOvermounts.length === 0 ? "nothing is mounted over /proc" : "a procfs with nothing over it is mounted here too"
      : bindProc
        ? `masked (${signs.procOvermounts.length} entries); WARREN_BIND_PROC=1: sandboxes get this /proc, bound (SECURITY.md, Inside a container)`
        : `the runtime masks ${signs.procOvermounts.length} entries (${signs.procOvermounts.slice(0, 3).join(", ")}…): the kernel refuses a fresh procfs (launcher step mount-proc)`,
    fix: RUNTIME_FIXES.proc,
  });
  if (process.getuid?.() === 0) {
    const caps = effectiveCaps();
    const capless = caps !== undefined && (caps & ROOT_CAPS) !== ROOT_CAPS;
    const outside = rootOutside(parseIdMap(signs.uidMap));
    const mappedElsewhere = signs.rootInUserNamespace && outside !== undefined && outside !== 0;
    const problem = mappedElsewhere
      ? caps !== undefined && (caps & CAP_SETFCAP) === 0n
        ? `uid 0 of a user namespace, host uid ${outside}: mapping it into the sandboxes' user namespaces needs CAP_SETFCAP, which the kernel asks of whoever maps a uid 0 (step userns-uid-map, EPERM)`
        : undefined
      : signs.rootInUserNamespace
        ? "uid 0 of a user namespace that maps it to the host's root: the launcher takes root's way, which needs the sandbox uid 65534 mapped in that namespace (else step userns-owner fails)"
        : capless
          ? "uid 0 without CAP_SETUID, CAP_SETGID, CAP_SYS_ADMIN: it cannot map the sandbox uid (step userns-uid-map, EPERM)"
          : undefined;
    const fine = mappedElsewhere
      ? `uid 0 of a user namespace, host uid ${outside} (a rootless container's root): sandboxes are mapped to it, as for a non-root user`
      : "uid 0 with CAP_SETUID, CAP_SETGID and CAP_SYS_ADMIN (a rootful container's root)";
    items.push({ name: "the user Warren runs as can map sandbox uids and enter cgroups", ok: problem === undefined, detail: problem ?? fine, fix: RUNTIME_FIXES.user });
  }
  return items;
}

/** In a container, a failed item's fix also names the runtime's options. */
function withRuntimeFix(items: readonly DoctorItem[], fix: string): DoctorItem[] {
  return items.map((item) => (item.ok ? item : { ...item, fix: item.fix === undefined ? fix : `${item.fix}; inside a container: ${fix}` }));
}

export interface DoctorSection {
  readonly title: string;
  readonly items: readonly DoctorItem[];
}

/** Every prerequisite of rootless sandboxes, checked on this host, and a real trial run. */
export async function runDoctor(settings: SandboxSettings): Promise<DoctorSection[]> {
  const sections: DoctorSection[] = [];
  const signs = readContainerSigns(settings.containerEnv);
  const inContainer = describeSigns(signs).length > 0;
  const kernelItems = [...userNamespaceItems(), seccompItem()];
  sections.push({ title: "kernel", items: inContainer ? withRuntimeFix(kernelItems, RUNTIME_FIXES.userns) : kernelItems });
  sections.push({ title: "container", items: containerItems(signs, settings.bindProc) });

  const cgroupItems: DoctorItem[] = [];
  let parents: string[] = [];
  let version: 1 | 2 | undefined;
  try {
    const driver = detectCgroupDriver();
    version = driver.version;
    const root = await driver.chooseRoot(settings.cgroupRoot);
    const own = settings.cgroupRoot === undefined && root !== driver.defaultRoot;
    const why = settings.cgroupRoot !== undefined
      ? "WARREN_CGROUP_ROOT"
      : own
        ? "this process's own delegated cgroup: WARREN_CGROUP_ROOT is not set and the default root does not exist"
        : "the default: WARREN_CGROUP_ROOT is not set";
    cgroupItems.push({ name: "cgroup version", ok: true, detail: `v${driver.version}, root ${root} (${why})` });
    // as a runner would at start-up (the trial run below needs it): a no-op unless this process sits in the root itself
    const adopted = await driver.adopt(root);
    if (adopted.length > 0) cgroupItems.push({ name: `took over ${root}`, ok: true, detail: adopted.join("; ") });
    const checks = await driver.check(root, settings.setupUser);
    cgroupItems.push(...checks);
    if (checks.every((item) => item.ok)) parents = driver.parents(root);
  } catch (error) {
    if (!(error instanceof WarrenError)) throw error;
    cgroupItems.push({ name: "cgroup version", ok: false, detail: error.message, fix: "mount cgroup v2 at /sys/fs/cgroup (or the v1 memory, pids, cpu, cpuacct hierarchies)" });
  }
  sections.push({ title: "cgroups", items: inContainer ? withRuntimeFix(cgroupItems, cgroupRuntimeFix(version)) : cgroupItems });

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
    const container = containerArgs({ rootfs: image.rootfs, binds: image.binds, bindProc: settings.bindProc });
    const base = [...container, "--wall-ms", "10000", "--status-fd", "3"];
    sandboxItems.push(await trialItem("a sandbox runs (user namespace, overlay, seccomp)", launcher, [...base, "--", "/bin/true"], inContainer));
    if (parents.length > 0) {
      const cgroups = parents.flatMap((parent) => ["--cgroup", parent]);
      sandboxItems.push(await trialItem("a sandbox runs with cgroup limits", launcher, [...base, ...cgroups, "--memory-mb", "64", "--pids", "16", "--cpu-ms", "5000", "--", "/bin/true"], inContainer));
    }
  }
  sections.push({ title: "sandbox", items: sandboxItems });
  return sections;
}
