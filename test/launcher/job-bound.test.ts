/* What one execution makes must not outlive it unless it lives in the scratch
 * layer (SECURITY.md, finding 2). Before the fix, System V segments made by
 * each test of a job stayed in the container's IPC namespace, charged to the
 * dead executions' cgroups under an unlimited parent: with `memoryMb: 64`,
 * eleven tests of 48 MB each left 528 MB resident, every test within its
 * limit. Now each execution has its own IPC namespace, and the container has
 * a cgroup of its own whose limits bound all its executions together. */
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { encodeJobFiles } from "../../src/sandbox/container/job-files.js";
import { eventually } from "../helpers/eventually.js";
import { TIME_SCALE } from "../helpers/sandbox.js";
import { cgroupsOf, envArgs, served } from "./fixture.js";

const programs = path.join(import.meta.dirname, "programs");
const MiB = 1024 * 1024;

/** A number from a cgroup file of the container's own cgroup in the hierarchy that has FILE (v1: one per controller). */
function jobValue(launcherPid: number, files: readonly string[]): number {
  for (const dir of cgroupsOf(launcherPid)) {
    for (const file of files) {
      const at = path.join(dir, file);
      if (!fs.existsSync(at)) continue;
      const text = fs.readFileSync(at, "utf8").trim();
      return text === "max" ? Infinity : Number(text);
    }
  }
  throw new Error(`no ${files.join(" or ")} in the container's cgroups ${cgroupsOf(launcherPid).join(", ")}`);
}

describe("a job's executions", () => {
  it("leave no System V or POSIX IPC object behind, and the container's own cgroup bounds them all together", async () => {
    const box = await served(["--scratch-mb", "64"]);
    try {
      const limits = ["--memory-mb", "64", "--pids", "16", "--wall-ms", String(30_000 * TIME_SCALE), ...envArgs];
      const files = encodeJobFiles([{ path: "ipc.c", content: fs.readFileSync(path.join(programs, "ipc-leftovers.c")) }]);
      const built = await box.request([...limits, "--memory-mb", "256", "--unpack-first", String(files.length), "--", "gcc", "-O2", "-o", "ipc", "ipc.c", "-lrt"], files);
      expect(built.status, built.stderr).toMatchObject({ status: "ok" });
      const pid = box.child.pid!;
      for (let test = 1; test <= 6; test++) {
        const ran = await box.request([...limits, "--", "./ipc", "48"]);
        // every object is made anew (no EEXIST): nothing of the earlier executions is there
        expect({ test, ...ran }).toMatchObject({ test, stdout: "shm 0 msg 0 sem 0 mq 0\n", status: { status: "ok" } });
        expect(ran.status.memoryKb).toBeLessThanOrEqual(64 * 1024);
        // the container's cgroup holds the execution's memory, the scratch layer and 16 MiB besides, and its processes
        expect(jobValue(pid, ["memory.max", "memory.limit_in_bytes"])).toBe((64 + 64 + 16) * MiB);
        expect(jobValue(pid, ["pids.max"])).toBe(16);
        // the segments go with their namespace (the kernel frees them after an RCU grace period, in a
        // worker of its own: on a busy machine not yet when the next execution starts, which two such
        // leftovers then push over the container's bound; once, on test 6)
        await eventually("the container's memory to fall back", () => {
          const used = jobValue(pid, ["memory.current", "memory.usage_in_bytes"]);
          return used < 40 * MiB ? used : undefined;
        });
      }
      // the next execution's cgroup waits below the container's own
      const [job] = cgroupsOf(pid);
      expect(fs.readdirSync(job!, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)).toEqual([expect.stringMatching(/^e\d+$/)]);
    } finally {
      expect(await box.close()).toBe(0);
    }
    expect(cgroupsOf(box.child.pid!)).toEqual([]);
  });
});
