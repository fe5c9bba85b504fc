import { describe, expect, it } from "vitest";
import { mountHolding, parseMountInfo } from "./mountinfo.js";

describe("parseMountInfo", () => {
  it("reads mount point, type and super options, with and without optional fields", () => {
    const text = [
      "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu",
      "35 31 0:32 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct",
      "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate",
      "50 1 0:40 /sub /mnt/with\\040space rw - tmpfs tmpfs rw",
      "garbage",
    ].join("\n");
    expect(parseMountInfo(text)).toEqual([
      { root: "/", mountPoint: "/sys/fs/cgroup/cpu", options: ["rw", "relatime"], fsType: "cgroup", superOptions: ["rw", "cpu"] },
      { root: "/", mountPoint: "/sys/fs/cgroup/cpu,cpuacct", options: ["rw", "nosuid"], fsType: "cgroup", superOptions: ["rw", "cpu", "cpuacct"] },
      { root: "/", mountPoint: "/sys/fs/cgroup/unified", options: ["rw", "relatime"], fsType: "cgroup2", superOptions: ["rw", "nsdelegate"] },
      { root: "/sub", mountPoint: "/mnt/with space", options: ["rw"], fsType: "tmpfs", superOptions: ["rw"] },
    ]);
  });
});

describe("mountHolding", () => {
  // a container's: the root, its cgroup2 read-only, a delegated directory bound read-write below it, a prefix look-alike
  const mounts = parseMountInfo(
    [
      "1 0 0:1 / / rw - overlay overlay rw",
      "2 1 0:2 / /sys/fs/cgroup ro,nosuid - cgroup2 cgroup rw",
      "3 2 0:2 /warren-worker-1 /sys/fs/cgroup/warren-worker-1 rw - cgroup2 cgroup rw",
      "4 1 0:3 / /sys/fs/cgroupx rw - tmpfs tmpfs rw",
      "5 2 0:2 / /sys/fs/cgroup rw - cgroup2 cgroup rw",
    ].join("\n"),
  );
  it("finds the deepest mount above a path, the last one mounted over the same point", () => {
    expect(mountHolding("/sys/fs/cgroup/warren-worker-1/x/cgroup.procs", mounts)?.mountPoint).toBe("/sys/fs/cgroup/warren-worker-1");
    expect(mountHolding("/sys/fs/cgroup/warren", mounts)?.options).toContain("rw"); // 5 covers 2
    expect(mountHolding("/sys/fs/cgroup/warren", mounts.slice(0, 4))?.options).toContain("ro");
    expect(mountHolding("/sys/fs/cgroupx/a", mounts)?.mountPoint).toBe("/sys/fs/cgroupx");
    expect(mountHolding("/etc/passwd", mounts)?.mountPoint).toBe("/");
    expect(mountHolding("/sys/fs/cgroup", mounts.slice(0, 4))?.options).toContain("ro");
  });
});
