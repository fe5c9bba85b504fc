import { describe, expect, it } from "vitest";
import { holdArgs, joinArgs } from "./launch-args.js";

describe("holdArgs", () => {
  it("lists container options in the documented spelling", () => {
    expect(
      holdArgs(
        {
          rootfs: "/data/rootfs",
          binds: [{ source: "/usr", target: "/usr" }, { source: "/etc/ssl/certs", target: "/etc/ssl/certs", optional: true }],
          scratchMb: 64,
          copyIn: "/tmp/job",
        },
        3,
      ),
    ).toEqual([
      "--hold", "--rootfs", "/data/rootfs",
      "--ro-bind", "/usr", "/usr",
      "--ro-bind-try", "/etc/ssl/certs", "/etc/ssl/certs",
      "--scratch-mb", "64", "--copy-in", "/tmp/job", "--status-fd", "3",
    ]);
  });
});

describe("joinArgs", () => {
  const base = { pid: 42, cgroups: ["/cg/memory/warren", "/cg/pids/warren"], argv: ["python3", "main.py"] };

  it("lists exec options, the environment and the program after --", () => {
    expect(
      joinArgs({ ...base, env: { PATH: "/usr/bin" }, cwd: "/box", limits: { memoryMb: 256, processes: 64, cpuTimeMs: 1000, wallTimeMs: 2000, outputKb: 8 } }, 3),
    ).toEqual([
      "--join", "42", "--cgroup", "/cg/memory/warren", "--cgroup", "/cg/pids/warren",
      "--memory-mb", "256", "--pids", "64", "--cpu-ms", "1000", "--wall-ms", "2000", "--output-kb", "8",
      "--env", "PATH=/usr/bin", "--chdir", "/box", "--status-fd", "3", "--", "python3", "main.py",
    ]);
  });

  it("refuses limits that need a cgroup when there is none", () => {
    expect(() => joinArgs({ ...base, cgroups: [], limits: { memoryMb: 64 } }, 3)).toThrow(expect.objectContaining({ code: "invalid_request" }));
  });

  it("refuses bad numbers, env names and empty programs with the value in the message", () => {
    expect(() => joinArgs({ ...base, limits: { wallTimeMs: -1 } }, 3)).toThrow("Expected `wallTimeMs` to be a positive integer, got `-1` (number).");
    expect(() => joinArgs({ ...base, env: { "A=B": "x" }, limits: {} }, 3)).toThrow(expect.objectContaining({ code: "invalid_request" }));
    expect(() => joinArgs({ ...base, argv: [], limits: {} }, 3)).toThrow(expect.objectContaining({ code: "invalid_request" }));
  });
});
