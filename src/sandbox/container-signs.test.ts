import { describe, expect, it } from "vitest";
import { parseMountInfo } from "./cgroup/mountinfo.js";
import { describeSigns, freshProcAllowed, isInitialUserNamespace, parseIdMap, procOvermounts, readOnlyCgroupMounts, rootOutside, seccompMode } from "./container-signs.js";

// /proc/self/mountinfo in a podman container (4.3, runc, cgroup v1 host), abridged
const podman = parseMountInfo(
  [
    "600 590 0:52 / / rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w",
    "601 600 0:55 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw",
    "605 600 0:58 / /sys/fs/cgroup ro,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755",
    "606 605 0:30 /user.slice /sys/fs/cgroup/memory ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory",
    "607 606 0:30 /warren /sys/fs/cgroup/memory/warren rw,nosuid,nodev,noexec,relatime - cgroup cgroup rw,memory",
    "620 601 0:61 / /proc/acpi ro,relatime - tmpfs tmpfs rw,size=0k",
    "621 601 0:5 /null /proc/kcore rw,nosuid - devtmpfs udev rw",
    "622 601 0:5 /null /proc/keys rw,nosuid - devtmpfs udev rw",
    "623 601 0:55 /sys /proc/sys ro,relatime - proc proc rw",
  ].join("\n"),
);
// a host: binfmt_misc is on an empty directory of /proc/sys, which the kernel does not count
const host = parseMountInfo(
  [
    "22 27 0:21 / /proc rw,relatime - proc proc rw",
    "40 22 0:35 / /proc/sys/fs/binfmt_misc rw,relatime - autofs systemd-1 rw,fd=30",
    "41 40 0:36 / /proc/sys/fs/binfmt_misc rw,relatime - binfmt_misc binfmt_misc rw",
    "35 31 0:32 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory",
  ].join("\n"),
);

describe("container signs", () => {
  it("finds a runtime's /proc masks, and not a host's binfmt_misc", () => {
    expect(procOvermounts(podman)).toEqual(["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/sys"]);
    expect(procOvermounts(host)).toEqual([]);
  });

  it("allows a fresh procfs only where some procfs has nothing over it", () => {
    expect(freshProcAllowed(podman)).toBe(false);
    expect(freshProcAllowed(host)).toBe(true);
    const second = parseMountInfo("90 27 0:80 / /mnt/proc rw,relatime - proc proc rw");
    expect(freshProcAllowed([...podman, ...second])).toBe(true);
  });

  it("finds read-only cgroup mounts; a delegated directory bound read-write is not one", () => {
    expect(readOnlyCgroupMounts(podman)).toEqual(["/sys/fs/cgroup", "/sys/fs/cgroup/memory"]);
    expect(readOnlyCgroupMounts(host)).toEqual([]);
  });

  it("reads the seccomp mode of a status text", () => {
    expect(seccompMode("Name:\tnode\nSeccomp:\t2\nSeccomp_filters:\t1\n")).toBe("filter");
    expect(seccompMode("Seccomp:\t0\n")).toBe("disabled");
    expect(seccompMode("Name:\tnode\n")).toBe("unknown");
  });

  it("tells the initial user namespace's map from a container's", () => {
    expect(isInitialUserNamespace(parseIdMap("         0          0 4294967295\n"))).toBe(true);
    expect(isInitialUserNamespace(parseIdMap("         0       1000          1\n         1     100000      65536\n"))).toBe(false);
    expect(parseIdMap("0 1000 1\ngarbage\n1 100000 65536")).toEqual([{ inside: 0, outside: 1000, count: 1 }, { inside: 1, outside: 100000, count: 65536 }]);
  });

  it("finds the host uid a namespace's root maps to (a rootless container's root is the user who started it)", () => {
    expect(rootOutside(parseIdMap("         0          0 4294967295\n"))).toBe(0);
    expect(rootOutside(parseIdMap("         1     100000      65536\n         0       1000          1\n"))).toBe(1000);
    expect(rootOutside(parseIdMap("      1000       1000          1\n"))).toBeUndefined();
  });

  it("says nothing without a sign, and names each sign found", () => {
    const none = { seccomp: "disabled", procOvermounts: [], freshProcAllowed: true, readOnlyCgroups: [], rootInUserNamespace: false, uidMap: "0 0 4294967295", markers: [], containerEnv: undefined } as const;
    expect(describeSigns(none)).toEqual([]);
    expect(describeSigns({ ...none, containerEnv: "podman", markers: ["/run/.containerenv"], rootInUserNamespace: true, uidMap: "0 1000 1" })).toEqual([
      "container=podman",
      "/run/.containerenv",
      "uid 0 in a user namespace (uid_map 0 1000 1)",
    ]);
  });
});
