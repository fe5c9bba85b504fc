import fs from "node:fs";
import { parseMountInfo, type MountEntry } from "./cgroup/mountinfo.js";

/**
 * What tells that Warren runs inside a container (podman, Docker,
 * Kubernetes), read from this process's own view of the kernel: `warren
 * doctor` names the container runtime's options for what fails there
 * (docs/service.md, *Running Warren in a container*).
 */
export interface ContainerSigns {
  /** /proc/self/status `Seccomp:`: 2 is a filter (a runtime's profile, or a service manager's) */
  readonly seccomp: "disabled" | "strict" | "filter" | "unknown";
  /** Mounts over parts of /proc (a runtime's masks) */
  readonly procOvermounts: readonly string[];
  /** Some procfs here has nothing mounted over it: the kernel allows a fresh one in a user namespace only then */
  readonly freshProcAllowed: boolean;
  /** cgroup mounts (and the tmpfs holding them) mounted read-only, as runtimes mount them */
  readonly readOnlyCgroups: readonly string[];
  /** uid 0 in a user namespace that does not map the whole uid range to itself (a rootless runtime's container root) */
  readonly rootInUserNamespace: boolean;
  /** /proc/self/uid_map's lines, as read */
  readonly uidMap: string;
  /** The runtime's marker files found: /.containerenv, /run/.containerenv (podman), /.dockerenv (Docker) */
  readonly markers: readonly string[];
  /** The `container` variable's value (podman, systemd-nspawn) */
  readonly containerEnv: string | undefined;
}

/** One line of /proc/self/uid_map (or gid_map): COUNT ids from INSIDE map to OUTSIDE. */
export interface IdRange {
  readonly inside: number;
  readonly outside: number;
  readonly count: number;
}

/** The ranges of a uid_map or gid_map text; malformed lines are skipped. */
export function parseIdMap(text: string): IdRange[] {
  const ranges: IdRange[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/).map(Number);
    if (fields.length !== 3 || !fields.every((n) => Number.isSafeInteger(n) && n >= 0)) continue;
    ranges.push({ inside: fields[0]!, outside: fields[1]!, count: fields[2]! });
  }
  return ranges;
}

/** The initial user namespace's map: every uid to itself. Anything else is a user namespace. */
export function isInitialUserNamespace(ranges: readonly IdRange[]): boolean {
  return ranges.length === 1 && ranges[0]!.inside === 0 && ranges[0]!.outside === 0 && ranges[0]!.count === 4294967295;
}

/** The uid that uid 0 of MAP's namespace is in the parent namespace; undefined when 0 is not mapped. */
export function rootOutside(ranges: readonly IdRange[]): number | undefined {
  return ranges.find((range) => range.inside === 0 && range.count > 0)?.outside;
}

/**
 * Whether this process is the host's root as the launcher sees it (userns.c,
 * userns_host_root): uid 0 whose namespace maps it to 0, or an unreadable
 * map. Then sandboxes are mapped to the sandbox uid (65534). Root of a user
 * namespace that maps it to another uid (a rootless container's root) maps
 * them to itself, as a non-root user does.
 */
export function isHostRoot(): boolean {
  if (process.getuid?.() !== 0) return false;
  const map = readOr("/proc/self/uid_map", "");
  const outside = map === "" ? undefined : rootOutside(parseIdMap(map));
  return outside === undefined || outside === 0;
}

/**
 * The mount points over part of /proc. binfmt_misc (on an empty directory of
 * /proc/sys, which the kernel does not count) is every host's, not a mask.
 */
export function procOvermounts(mounts: readonly MountEntry[]): string[] {
  return mounts
    .filter((mount) => mount.mountPoint.startsWith("/proc/") && mount.fsType !== "binfmt_misc" && mount.mountPoint !== "/proc/sys/fs/binfmt_misc")
    .map((mount) => mount.mountPoint);
}

/**
 * Whether some procfs mount (of its whole file system) has nothing mounted
 * below it but binfmt_misc: the kernel's condition for a fresh procfs in a
 * user namespace (fs/namespace.c, mnt_already_visible). A container's one
 * /proc, masked, fails it.
 */
export function freshProcAllowed(mounts: readonly MountEntry[]): boolean {
  return mounts
    .filter((mount) => mount.fsType === "proc" && mount.root === "/")
    .some((proc) => !mounts.some((mount) => mount.mountPoint.startsWith(`${proc.mountPoint}/`) && mount.fsType !== "binfmt_misc" && !mount.mountPoint.endsWith("/sys/fs/binfmt_misc")));
}

/** The cgroup mounts, and /sys/fs/cgroup itself, that are read-only. */
export function readOnlyCgroupMounts(mounts: readonly MountEntry[]): string[] {
  return mounts
    .filter((mount) => (mount.fsType === "cgroup" || mount.fsType === "cgroup2" || mount.mountPoint === "/sys/fs/cgroup") && mount.options.includes("ro"))
    .map((mount) => mount.mountPoint);
}

/** `Seccomp:` of a /proc/PID/status text. */
export function seccompMode(status: string): ContainerSigns["seccomp"] {
  const value = /^Seccomp:\s*(\d)/m.exec(status)?.[1];
  return value === "0" ? "disabled" : value === "1" ? "strict" : value === "2" ? "filter" : "unknown";
}

const MARKERS = ["/.containerenv", "/run/.containerenv", "/.dockerenv"] as const;

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}

/** This process's signs. `containerEnv`: the `container` variable (SandboxSettings.containerEnv). */
export function readContainerSigns(containerEnv: string | undefined): ContainerSigns {
  const mounts = parseMountInfo(readOr("/proc/self/mountinfo", ""));
  const uidMap = readOr("/proc/self/uid_map", "").trim();
  return {
    seccomp: seccompMode(readOr("/proc/self/status", "")),
    procOvermounts: procOvermounts(mounts),
    freshProcAllowed: freshProcAllowed(mounts),
    readOnlyCgroups: readOnlyCgroupMounts(mounts),
    rootInUserNamespace: process.getuid?.() === 0 && uidMap !== "" && !isInitialUserNamespace(parseIdMap(uidMap)),
    uidMap,
    markers: MARKERS.filter((file) => fs.existsSync(file)),
    containerEnv,
  };
}

/** What of SIGNS points to a container, one phrase each; empty: none does. */
export function describeSigns(signs: ContainerSigns): string[] {
  const found: string[] = [];
  if (signs.containerEnv !== undefined) found.push(`container=${signs.containerEnv}`);
  found.push(...signs.markers);
  if (signs.seccomp === "filter") found.push("a seccomp filter (Seccomp: 2)");
  if (signs.procOvermounts.length > 0) found.push(`/proc masked (${signs.procOvermounts.slice(0, 4).join(", ")}${signs.procOvermounts.length > 4 ? ", …" : ""})`);
  if (signs.readOnlyCgroups.length > 0) found.push(`read-only cgroup mounts (${signs.readOnlyCgroups.slice(0, 3).join(", ")}${signs.readOnlyCgroups.length > 3 ? ", …" : ""})`);
  if (signs.rootInUserNamespace) found.push(`uid 0 in a user namespace (uid_map ${signs.uidMap.replace(/\s+/g, " ")})`);
  return found;
}

/** What makes the delegated cgroups writable inside a container, per cgroup version. */
const CGROUP_FIXES = {
  1:
    "cgroup v1: delegate on the host (sudo warren setup-cgroups --user UID), then bind each delegated directory read-write at the same path: podman and Docker: -v DIR:DIR:rw (one per hierarchy); Kubernetes: a hostPath volume of DIR mounted at DIR",
  2:
    "cgroup v2: podman: give Warren the container's own cgroup, mounted read-write and owned by Warren's uid, with WARREN_CGROUP_ROOT unset, and Warren takes it over: --cgroupns=private --systemd=always " +
    "(rootless podman, Warren as the container's root: also --cgroups=enabled with crun under a delegated --cgroup-parent); " +
    "Docker (its cgroupfs driver): delegate a parent on the host (sudo deploy/delegate-cgroups.sh NAME UID) and put the container in it: " +
    "--cgroup-parent=/NAME --cgroupns=host -v /sys/fs/cgroup/NAME:/sys/fs/cgroup/NAME:rw -e WARREN_CGROUP_ROOT=/sys/fs/cgroup/NAME (docs/containers.md, cgroup v2)",
} as const;

/** The runtimes' cgroup options for cgroup VERSION (both versions' when it is not known). */
export function cgroupRuntimeFix(version?: 1 | 2): string {
  return version === undefined ? RUNTIME_FIXES.cgroups : CGROUP_FIXES[version];
}

/**
 * The container runtimes' options, per thing the runtime must allow
 * (docs/service.md, *Running Warren in a container*, says why each).
 */
export const RUNTIME_FIXES = {
  /** a fresh procfs: no masked /proc entries, or Warren's opt-in */
  proc: "podman: --security-opt unmask=/proc/*; Docker: --security-opt systempaths=unconfined; Kubernetes: securityContext.procMount: Unmasked (with hostUsers: false); or, knowing what it exposes (SECURITY.md, Inside a container), WARREN_BIND_PROC=1",
  /** namespaces and mounts allowed by the seccomp profile */
  seccomp: "podman and Docker: --security-opt seccomp=warren.json (the profile shipped with Warren); Kubernetes: securityContext.seccompProfile: {type: Localhost, localhostProfile: warren.json}",
  /** mounts allowed by the LSM (Docker's and podman's AppArmor profiles refuse them) */
  apparmor: "podman and Docker: --security-opt apparmor=unconfined (or a profile allowing mount, umount and pivot_root); Kubernetes: securityContext.appArmorProfile: {type: Unconfined}",
  /** the delegated cgroup directories, writable inside (cgroupRuntimeFix: one version's only) */
  cgroups: `${CGROUP_FIXES[1]}. ${CGROUP_FIXES[2]}`,
  /** Warren as a non-root uid of the container */
  user:
    "run Warren as a non-root uid: podman and Docker: --user 1000:1000; Kubernetes: securityContext.runAsNonRoot: true, runAsUser: 1000; " +
    "or, as the root of a user-namespaced container (rootless podman, hostUsers: false), keep CAP_SETFCAP: --cap-add=SETFCAP; Kubernetes: capabilities: {add: [SETFCAP]}",
  /** user namespaces, which a runtime cannot grant: the host's sysctls */
  userns: "user namespaces are the host's setting: fix it on the host (the items above), then podman and Docker: --security-opt seccomp=warren.json; Kubernetes: the same profile (securityContext.seccompProfile)",
} as const;
