import { describe, expect, it } from "vitest";
import { chooseLayout } from "./detect.js";
import { parseMountInfo } from "./mountinfo.js";
import { CgroupV1Driver } from "./v1.js";

const hybrid = parseMountInfo(
  [
    "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755",
    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct",
    "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory",
    "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids",
    "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw",
  ].join("\n"),
);

describe("chooseLayout", () => {
  it("picks v2 when /sys/fs/cgroup is cgroup2", () => {
    const pure = parseMountInfo("30 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate");
    expect(chooseLayout(pure, false)).toEqual({ version: 2, mountPoint: "/sys/fs/cgroup" });
    expect(chooseLayout(hybrid, true)).toEqual({ version: 2, mountPoint: "/sys/fs/cgroup" });
  });

  it("treats a hybrid layout (v2 only under unified) as v1", () => {
    expect(chooseLayout(hybrid, false)).toEqual({ version: 1 });
  });

  it("refuses a machine with no memory controller", () => {
    const none = parseMountInfo("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw");
    expect(() => chooseLayout(none, false)).toThrow(expect.objectContaining({ code: "cgroup_unavailable" }));
  });
});

describe("CgroupV1Driver.parents", () => {
  it("gives one directory per hierarchy, co-mounted controllers once", () => {
    expect(new CgroupV1Driver(hybrid).parents("/warren")).toEqual([
      "/sys/fs/cgroup/memory/warren",
      "/sys/fs/cgroup/pids/warren",
      "/sys/fs/cgroup/cpu,cpuacct/warren",
    ]);
  });

  it("refuses a relative root or one with ..", () => {
    const driver = new CgroupV1Driver(hybrid);
    expect(() => driver.parents("warren")).toThrow(expect.objectContaining({ code: "cgroup_unavailable" }));
    expect(() => driver.parents("/a/../b")).toThrow(expect.objectContaining({ code: "cgroup_unavailable" }));
  });
});
