/* A container's first execution runs in the container's own cgroup (one
 * level, not two: most containers run one execution); a second one gets an
 * execution cgroup below it, under the container's bound, which holds what
 * the first left (SECURITY.md, finding 2). docs/launcher.md, "The
 * container's cgroup". */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { encodeCancel } from "../../src/sandbox/container/served-frames.js";
import { eventually } from "../helpers/eventually.js";
import { TIME_SCALE } from "../helpers/sandbox.js";
import { cgroupParents, cgroupsOf, envArgs, served, type Served } from "./fixture.js";

const MiB = 1024 * 1024;
const wall = ["--wall-ms", String(30_000 * TIME_SCALE)];

/** The sub-directories of each of the container's own cgroups (one per hierarchy). */
function levelsBelow(launcherPid: number): string[][] {
  return cgroupsOf(launcherPid).map((dir) => fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name));
}

/** A number from the first of FILES found in DIR's hierarchies' cgroup (v1: one per controller); "max" is Infinity. */
function value(dirs: readonly string[], files: readonly string[]): number {
  for (const dir of dirs) {
    for (const file of files) {
      const at = path.join(dir, file);
      if (!fs.existsSync(at)) continue;
      const first = fs.readFileSync(at, "utf8").trim().split(/\s/)[0];
      return first === "max" ? Infinity : Number(first);
    }
  }
  throw new Error(`no ${files.join(" or ")} in ${dirs.join(", ")}`);
}

/** The pids in cgroup DIR itself (not below it). */
function pidsOf(dir: string): number[] {
  return fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").split("\n").filter((line) => line !== "").map(Number);
}

/**
 * Whether the request's program runs in cgroup DIR: a process other than the
 * launcher's own (the program forked ahead waits there, as `warren-launch`,
 * before the request's limits are written and it execs).
 */
function runsProgram(dir: string): boolean {
  return pidsOf(dir).some((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/comm`, "utf8").trim() !== "warren-launch";
    } catch {
      return false; // gone meanwhile
    }
  });
}

/** The pids in the container's own cgroups themselves (not below them). */
function pidsIn(launcherPid: number): number[] {
  return cgroupsOf(launcherPid).flatMap(pidsOf);
}

/** Starts REQUEST (a program that waits), calls LOOK once it runs, cancels it and returns the answer. */
async function whileRunning<T>(box: Served, request: string[], running: () => T | undefined): Promise<{ seen: T }> {
  const answer = box.request(request);
  try {
    return { seen: await eventually("the execution to run", running) };
  } finally {
    box.child.stdin!.write(encodeCancel());
    const answered = await answer;
    expect(answered.status.step).toBe("cancelled");
  }
}

describe("the container's cgroup levels", () => {
  it("a container's first execution runs in the container's own cgroup, limited as the execution, with no level below", async () => {
    const box = await served(["--scratch-mb", "32"]);
    const pid = box.child.pid!;
    try {
      // nothing below the container's own cgroup before its first request either
      expect(levelsBelow(pid)).toEqual(cgroupParents.map(() => []));
      const { seen } = await whileRunning(box, [...envArgs, ...wall, "--memory-mb", "48", "--pids", "12", "--", "sh", "-c", "sleep 60"], () => {
        return cgroupsOf(pid).length === cgroupParents.length && cgroupsOf(pid).every(runsProgram) ? { below: levelsBelow(pid), memory: value(cgroupsOf(pid), ["memory.max", "memory.limit_in_bytes"]), pids: value(cgroupsOf(pid), ["pids.max"]) } : undefined;
      });
      // sh and its sleep are in the container's own cgroup, whose limits are the execution's (not its bound's: 48 + 32 + 16)
      expect(seen).toEqual({ below: cgroupParents.map(() => []), memory: 48 * MiB, pids: 12 });
      // a one-execution container makes nothing more after its answer
      expect(levelsBelow(pid)).toEqual(cgroupParents.map(() => []));
      expect(pidsIn(pid)).toEqual([]);
    } finally {
      expect(await box.close()).toBe(0);
    }
    expect(cgroupsOf(pid)).toEqual([]);
  });

  it("a second execution runs in e2 below the container's bound, which keeps what the first left charged; each one's accounting is its own", async () => {
    const box = await served(["--scratch-mb", "64"]);
    const pid = box.child.pid!;
    try {
      // the first burns some CPU and leaves 40 MiB in the scratch layer: charged to it, in the container's cgroup
      const first = await box.request([...envArgs, ...wall, "--memory-mb", "64", "--pids", "16", "--", "sh", "-c",
        "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; head -c 41943040 /dev/zero > /tmp/fill"]);
      expect(first.status, first.stderr).toMatchObject({ status: "ok" });
      expect(first.status.memoryKb!).toBeGreaterThanOrEqual(40 * 1024);
      expect(first.status.cpuTimeMs!).toBeGreaterThan(50);
      expect(levelsBelow(pid)).toEqual(cgroupParents.map(() => [])); // nothing is made ahead after a first execution
      expect(value(cgroupsOf(pid), ["memory.current", "memory.usage_in_bytes"])).toBeGreaterThanOrEqual(40 * MiB);

      // the second: in e2, the container bounded by its memory plus the scratch plus 16 MiB, and its processes
      const { seen } = await whileRunning(box, [...envArgs, ...wall, "--memory-mb", "32", "--pids", "8", "--cpus", "0.5", "--", "sleep", "60"], () => {
        const below = levelsBelow(pid);
        if (!below.every((names) => names.includes("e2"))) return undefined;
        const execution = cgroupsOf(pid).map((dir) => path.join(dir, "e2"));
        if (!execution.every(runsProgram)) return undefined; // its limits are written before its program runs
        return {
          below,
          inOwn: pidsIn(pid),
          bound: value(cgroupsOf(pid), ["memory.max", "memory.limit_in_bytes"]),
          boundPids: value(cgroupsOf(pid), ["pids.max"]),
          // the first's CPU quota is not the container's
          boundCpuUnlimited: [Infinity, -1].includes(value(cgroupsOf(pid), ["cpu.max", "cpu.cfs_quota_us"])),
          memory: value(execution, ["memory.max", "memory.limit_in_bytes"]),
          stillCharged: value(cgroupsOf(pid), ["memory.current", "memory.usage_in_bytes"]) >= 40 * MiB,
        };
      });
      expect(seen).toEqual({
        below: cgroupParents.map(() => ["e2"]),
        inOwn: [],
        bound: (32 + 64 + 16) * MiB,
        boundPids: 8,
        boundCpuUnlimited: true,
        memory: 32 * MiB,
        stillCharged: true,
      });

      // the third allocates past its limit: its own OOM, its own peak and CPU (not the first's file nor its loop)
      const third = await box.request([...envArgs, ...wall, "--memory-mb", "32", "--", "python3", "-c", "b = bytes(range(256)) * (1 << 18)"]);
      expect(third.status).toMatchObject({ status: "memory_limit_exceeded", oomKilled: true });
      expect(third.status.memoryKb!).toBeLessThanOrEqual(32 * 1024);
      expect(third.status.cpuTimeMs!).toBeLessThan(first.status.cpuTimeMs!);
      const quiet = await box.request([...envArgs, ...wall, "--memory-mb", "32", "--", "true"]);
      expect(quiet.status).toMatchObject({ status: "ok", oomKilled: false });
      expect(quiet.status.memoryKb!).toBeLessThan(16 * 1024);
      // the first's file is still there, still charged to the container
      const still = await box.request([...envArgs, ...wall, "--", "sh", "-c", "wc -c < /tmp/fill"]);
      expect(still.stdout.trim()).toBe(String(40 * MiB));
    } finally {
      expect(await box.close()).toBe(0);
    }
    expect(cgroupsOf(pid)).toEqual([]);
  });

  it("the next execution's cgroup is made ahead limited as the last execution was; a request that asks otherwise gets its own limits, none where it asks none", async () => {
    const box = await served(["--scratch-mb", "32"]);
    const pid = box.child.pid!;
    const limitsOf = (name: string) => {
      const dirs = cgroupsOf(pid).map((dir) => path.join(dir, name));
      return {
        memory: value(dirs, ["memory.max", "memory.limit_in_bytes"]),
        pids: value(dirs, ["pids.max"]),
        cpuUnlimited: [Infinity, -1].includes(value(dirs, ["cpu.max", "cpu.cfs_quota_us"])),
      };
    };
    try {
      for (const request of [["--memory-mb", "40"], ["--memory-mb", "48", "--pids", "10", "--cpus", "0.5"]]) {
        const ran = await box.request([...envArgs, ...wall, ...request, "--", "true"]);
        expect(ran.status, ran.stderr).toMatchObject({ status: "ok" });
      }
      // e2 ran the second; e3 is made ahead, with the program ahead in it, and the second's limits already written
      // (the program ahead enters it once its limits are written)
      const made = () => levelsBelow(pid).every((names) => names.includes("e3")) && cgroupsOf(pid).every((dir) => pidsOf(path.join(dir, "e3")).length > 0);
      const ahead = await eventually("the next cgroup made ahead, its program in it", () => (made() ? limitsOf("e3") : undefined));
      expect(ahead).toEqual({ memory: 48 * MiB, pids: 10, cpuUnlimited: false });
      // a request with other limits, and none for processes or CPU: its own, the ones written ahead undone
      const { seen } = await whileRunning(box, [...envArgs, ...wall, "--memory-mb", "24", "--", "sleep", "60"], () => {
        const execution = cgroupsOf(pid).map((dir) => path.join(dir, "e3"));
        return execution.every(runsProgram) ? limitsOf("e3") : undefined;
      });
      expect(seen).toEqual({ memory: 24 * MiB, pids: Infinity, cpuUnlimited: true });
      // and they hold: a 40 MiB fill is over the 24 asked for
      const over = await box.request([...envArgs, ...wall, "--memory-mb", "24", "--", "python3", "-c", "b = bytes(range(256)) * (40 << 12)"]);
      expect(over.status).toMatchObject({ status: "memory_limit_exceeded", oomKilled: true });
    } finally {
      expect(await box.close()).toBe(0);
    }
    expect(cgroupsOf(pid)).toEqual([]);
  });
});
