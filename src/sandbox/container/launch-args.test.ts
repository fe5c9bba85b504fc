import { describe, expect, it } from "vitest";
import { execArgs, holdArgs } from "./launch-args.js";

describe("holdArgs", () => {
  it("lists container options in the documented spelling", () => {
    expect(
      holdArgs(
        {
          rootfs: "/data/rootfs",
          binds: [{ source: "/usr", target: "/usr" }, { source: "/etc/ssl/certs", target: "/etc/ssl/certs", optional: true }],
          scratchMb: 64,
          cgroups: ["/cg/memory/warren", "/cg/pids/warren"],
        },
        3,
      ),
    ).toEqual([
      "--hold", "--rootfs", "/data/rootfs",
      "--ro-bind", "/usr", "/usr",
      "--ro-bind-try", "/etc/ssl/certs", "/etc/ssl/certs",
      "--scratch-mb", "64", "--cgroup", "/cg/memory/warren", "--cgroup", "/cg/pids/warren", "--status-fd", "3",
    ]);
  });
});

describe("execArgs", () => {
  const base = { hasCgroups: true, argv: ["python3", "main.py"] };

  it("lists exec options, the environment and the program after --; the cgroups are the container's", () => {
    expect(
      execArgs({ ...base, env: { PATH: "/usr/bin" }, cwd: "/box", limits: { memoryMb: 256, processes: 64, cpuTimeMs: 1000, wallTimeMs: 2000, outputKb: 8, cpus: 1.5 } }),
    ).toEqual([
      "--memory-mb", "256", "--pids", "64", "--cpu-ms", "1000", "--wall-ms", "2000", "--output-kb", "8", "--cpus", "1.5",
      "--env", "PATH=/usr/bin", "--chdir", "/box", "--", "python3", "main.py",
    ]);
  });

  it("refuses limits that need a cgroup when there is none", () => {
    expect(() => execArgs({ ...base, hasCgroups: false, limits: { memoryMb: 64 } })).toThrow(expect.objectContaining({ code: "invalid_request" }));
    expect(() => execArgs({ ...base, hasCgroups: false, limits: { cpus: 1 } })).toThrow(expect.objectContaining({ code: "invalid_request" }));
  });

  it("refuses bad numbers, env names and empty programs with the value in the message", () => {
    expect(() => execArgs({ ...base, limits: { wallTimeMs: -1 } })).toThrow("Expected `wallTimeMs` to be a positive integer, got `-1` (number).");
    expect(() => execArgs({ ...base, limits: { cpus: 0 } })).toThrow("Expected `cpus` to be a number from 0.01 to 1024, got `0` (number).");
    expect(() => execArgs({ ...base, env: { "A=B": "x" }, limits: {} })).toThrow(expect.objectContaining({ code: "invalid_request" }));
    expect(() => execArgs({ ...base, argv: [], limits: {} })).toThrow(expect.objectContaining({ code: "invalid_request" }));
  });
});
