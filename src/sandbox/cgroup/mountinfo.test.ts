import { describe, expect, it } from "vitest";
import { parseMountInfo } from "./mountinfo.js";

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
