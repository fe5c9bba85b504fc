import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { childCgroups, removeCgroupTree } from "../../src/sandbox/cgroup/tree.js";
import { REQUIRED_CONTROLLERS, type CgroupDriver } from "../../src/sandbox/cgroup/types.js";
import { jobSpecFromBody } from "../../src/run/job-spec.js";
import { runJob } from "../../src/worker/run-job.js";
import { job, sandbox } from "../helpers/sandbox.js";

/**
 * The contract every CgroupDriver meets, run against the driver this machine
 * uses (v1 here; v2 in the VM). Each test works in its own sub-root below the
 * delegated root, so it cannot disturb sandboxes of other test files.
 */
export function cgroupDriverContract(driver: CgroupDriver, root: string): void {
  const subRoots: string[] = [];
  const makeSubRoot = async (name: string) => {
    const subRoot = path.posix.join(root, `test-${name}-${process.pid}`);
    await driver.makeSubtree(subRoot);
    subRoots.push(subRoot);
    return subRoot;
  };

  afterAll(async () => {
    for (const subRoot of subRoots) {
      for (const dir of driver.parents(subRoot)) await removeCgroupTree(dir, async () => {});
    }
  });

  describe(`cgroup v${driver.version} driver at ${root}`, () => {
    it("parents() are existing cgroup directories covering every controller", () => {
      const parents = driver.parents(root);
      for (const dir of parents) expect(fs.existsSync(path.join(dir, "cgroup.procs"))).toBe(true);
      if (driver.version === 2) {
        expect(parents).toEqual([root]);
      } else {
        // v1 hierarchies are mounted at /sys/fs/cgroup/<controllers>, e.g. cpu,cpuacct
        const covered = parents.flatMap((dir) => path.basename(dir.slice(0, -root.length)).split(","));
        expect(covered.sort()).toEqual([...REQUIRED_CONTROLLERS].sort());
      }
    });

    it("check() reports the delegated root usable, item by item", async () => {
      const items = await driver.check(root);
      expect(items.length).toBeGreaterThan(0);
      expect(items.filter((item) => !item.ok)).toEqual([]);
    });

    it("check() reports a missing root with the setup fix", async () => {
      const items = await driver.check(path.posix.join(root, "does-not-exist"));
      expect(items.some((item) => !item.ok && item.fix?.includes("setup-cgroups"))).toBe(true);
    });

    it("reapStale() kills the processes of a dead launcher's cgroup and removes it, keeping the supervisor leaf and live runs", async () => {
      const subRoot = await makeSubRoot("reap");
      const gone = spawn("true");
      const deadPid = await new Promise<number>((resolve) => gone.once("exit", () => resolve(gone.pid!)));
      const sleeper = spawn("sleep", ["1000"], { stdio: "ignore" });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => sleeper.once("exit", (_code, signal) => resolve(signal)));
      const leftovers = driver.parents(subRoot).map((dir) => path.join(dir, `warren-${deadPid}`));
      for (const dir of driver.parents(subRoot)) fs.mkdirSync(path.join(dir, "supervisor"));
      // a run of a launcher that is still alive (this test process stands in for it)
      for (const dir of driver.parents(subRoot)) fs.mkdirSync(path.join(dir, `warren-${process.pid}`));
      for (const dir of leftovers) {
        fs.mkdirSync(dir);
        fs.mkdirSync(path.join(dir, "nested"));
        fs.writeFileSync(path.join(dir, "nested", "cgroup.procs"), String(sleeper.pid));
      }
      const removed = await driver.reapStale(subRoot);
      expect(removed.sort()).toEqual([...leftovers].sort());
      expect(await exited).toBe("SIGKILL");
      for (const dir of leftovers) expect(fs.existsSync(dir)).toBe(false);
      for (const dir of driver.parents(subRoot)) {
        expect((await childCgroups(dir)).map((child) => path.basename(child)).sort()).toEqual(["supervisor", `warren-${process.pid}`]);
        fs.rmdirSync(path.join(dir, `warren-${process.pid}`));
      }
    });

    it("a sandbox run leaves no cgroup behind, however its program ends", async () => {
      const subRoot = await makeSubRoot("clean");
      const env = await sandbox();
      const local = { ...env, cgroups: driver.parents(subRoot) };
      const languages = env.image.languages;
      const ok = await runJob(jobSpecFromBody(job("bash", "main.sh", "echo hi"), { languages }), local);
      expect(ok).toMatchObject({ verdict: "accepted", run: { stdout: "hi\n" } });
      const oom = await runJob(
        jobSpecFromBody(job("python", "main.py", "x = b'x' * (512 << 20)", { limits: { memoryMb: 64 } }), { languages }),
        local,
      );
      expect(oom.verdict).toBe("memory_limit_exceeded");
      const daemon = await runJob(jobSpecFromBody(job("bash", "main.sh", "setsid sleep 1000 & sleep 1000", { limits: { wallTimeMs: 500 } }), { languages }), local);
      expect(daemon.verdict).toBe("time_limit_exceeded");
      for (const dir of driver.parents(subRoot)) expect(await childCgroups(dir)).toEqual([]);
    });
  });
}
