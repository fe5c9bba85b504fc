import fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import type { Container } from "../../src/sandbox/container/container.js";
import { ContainerPool } from "../../src/sandbox/container/container-pool.js";
import { PreparedBudget } from "../../src/sandbox/container/prepared-budget.js";
import { jobSpecFromBody } from "../../src/run/job-spec.js";
import { runJob } from "../../src/worker/run-job.js";
import { parentOf } from "../helpers/processes.js";
import { job, sandbox } from "../helpers/sandbox.js";

const limits = { wallTimeMs: 5000, cpuTimeMs: 5000, memoryMb: 128, processes: 32, outputKb: 256 };
const env = { PATH: "/usr/bin:/bin" };
const pools: ContainerPool[] = [];
const taken: Container[] = [];
afterEach(async () => {
  for (const c of taken.splice(0)) await c.destroy();
  for (const p of pools.splice(0)) await p.close();
});

async function options(files: { path: string; content: string }[] = []) {
  const s = await sandbox();
  return { rootfs: s.image.rootfs, binds: s.image.binds, cgroups: s.cgroups, scratchMb: 16, files };
}

/** Polls (bounded) until the pool has `n` ready containers. */
async function readyCount(pool: ContainerPool, n: number): Promise<number> {
  for (let i = 0; i < 400 && pool.ready < n; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  return pool.ready;
}

describe("ContainerPool", () => {
  it("refills in the background and hands a ready container out once, with the job's files copied in", async () => {
    const pool = new ContainerPool({ maxIdle: 1 });
    pools.push(pool);
    const first = await pool.acquire(await options([{ path: "a.txt", content: "first\n" }]));
    taken.push(first);
    expect(await readyCount(pool, 1)).toBe(1);
    const second = await pool.acquire(await options([{ path: "a.txt", content: "second\n" }]));
    taken.push(second);
    expect(second.pid).not.toBe(first.pid);
    const read = await second.exec({ argv: ["cat", "a.txt"], env, limits });
    expect(read.stdout.toString()).toBe("second\n");
  });

  it("never lets one job see another's writes: a container is destroyed after its job, not returned", async () => {
    const pool = new ContainerPool({ maxIdle: 2 });
    pools.push(pool);
    const a = await pool.acquire(await options());
    await a.exec({ argv: ["sh", "-c", "echo secret > /tmp/left; echo secret > /box/left"], env, limits });
    await a.destroy();
    expect(await readyCount(pool, 1)).toBeGreaterThanOrEqual(1);
    const b = await pool.acquire(await options());
    taken.push(b);
    expect(b.pid).not.toBe(a.pid);
    const look = await b.exec({ argv: ["sh", "-c", "ls /tmp /box"], env, limits });
    expect(look.stdout.toString()).toBe("/box:\n\n/tmp:\n");
  });

  it("keeps its ready containers of every kind within a shared budget, and gives the slots back", async () => {
    const budget = new PreparedBudget(1);
    const pool = new ContainerPool({ maxIdle: 2, budget });
    pools.push(pool);
    const base = await options();
    for (const scratchMb of [16, 24, 16, 24]) taken.push(await pool.acquire({ ...base, scratchMb }));
    expect(await readyCount(pool, 1)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for a second fill, if the budget let one through
    expect(pool.ready).toBe(1);
    expect(budget.held).toBe(1);
    await pool.close();
    expect(budget.held).toBe(0);
  });

  it("ends every ready container on close", async () => {
    const pool = new ContainerPool({ maxIdle: 2 });
    // a hostname of its own marks this kind's holders in the host's process list
    const hostname = `pool-close-${process.pid}`;
    const c = await pool.acquire({ ...(await options()), hostname });
    taken.push(c);
    expect(await readyCount(pool, 1)).toBeGreaterThanOrEqual(1);
    expect(holders(hostname).length).toBeGreaterThanOrEqual(2); // the acquired one's and a ready one's
    await pool.close();
    expect(pool.ready).toBe(0);
    expect(holders(hostname)).toHaveLength(1); // only the acquired one's is left
  });

  it("never hands out a ready container whose image directory was removed and made again", async () => {
    const base = await options();
    // a copy of the image's root (the host image's is a small skeleton whose /usr is bound in)
    const rootfs = fs.mkdtempSync("/tmp/warren-pool-rootfs-");
    const copy = () => {
      fs.cpSync(base.rootfs, rootfs, { recursive: true, verbatimSymlinks: true });
      fs.chmodSync(rootfs, 0o755);
      fs.writeFileSync(`${rootfs}/etc/generation`, `${Date.now()}\n`, { mode: 0o644 });
    };
    copy();
    const pool = new ContainerPool({ maxIdle: 1 });
    pools.push(pool);
    try {
      taken.push(await pool.acquire({ ...base, rootfs }));
      expect(await readyCount(pool, 1)).toBe(1);
      fs.rmSync(rootfs, { recursive: true });
      fs.mkdirSync(rootfs);
      copy();
      const generation = fs.readFileSync(`${rootfs}/etc/generation`, "utf8");
      const fresh = await pool.acquire({ ...base, rootfs });
      taken.push(fresh);
      expect((await fresh.exec({ argv: ["cat", "/etc/generation"], env, limits })).stdout.toString()).toBe(generation);
    } finally {
      for (const c of taken.splice(0)) await c.destroy();
      fs.rmSync(rootfs, { recursive: true, force: true });
    }
  });

  it("serves runJob: compile and run in a pooled container", async () => {
    const s = await sandbox();
    const pool = new ContainerPool({ maxIdle: 1 });
    pools.push(pool);
    const pooled = { ...s, pool };
    const body = job("c", "main.c", '#include <stdio.h>\nint main(){int x; scanf("%d",&x); printf("%d\\n", x*2); return 0;}', { stdin: "21\n" });
    const spec = jobSpecFromBody(body, { languages: s.image.languages });
    const first = await runJob(spec, pooled);
    expect(first).toMatchObject({ verdict: "accepted", run: { stdout: "42\n" } });
    expect(await readyCount(pool, 1)).toBe(1);
    const second = await runJob(spec, pooled);
    expect(second).toMatchObject({ verdict: "accepted", run: { stdout: "42\n" } });
  });
});

/** Host pids of this process's holder launchers started with `--hostname NAME`. */
function holders(hostname: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${entry}/cmdline`, "latin1").split("\0");
      const at = argv.indexOf("--hostname");
      if (parentOf(Number(entry)) === process.pid && argv.includes("--hold") && at >= 0 && argv[at + 1] === hostname) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}
