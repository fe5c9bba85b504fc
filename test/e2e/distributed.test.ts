import fs from "node:fs";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runResultSchema } from "../../src/run/result-schema.js";
import { detectCgroupDriver, resolveCgroupRoot } from "../../src/sandbox/cgroup/index.js";
import { eventually } from "../helpers/eventually.js";
import { processesWith } from "../helpers/processes.js";
import { freePort, startRedis, type TestRedis } from "../helpers/redis-server.js";
import { testSettings } from "../helpers/sandbox.js";
import { postRun, stop, until200, warren } from "./processes.js";

/** Short locks, so a killed worker's job is taken over within seconds. */
const FAST_STALL = { WARREN_LOCK_DURATION_MS: "2000", WARREN_STALLED_INTERVAL_MS: "1000", WARREN_CONCURRENCY: "2" };

describe("distributed: redis-server + API (--no-worker) + 2 workers", () => {
  let redis: TestRedis;
  let api: ReturnType<typeof warren>;
  const workers: ReturnType<typeof warren>[] = [];
  let base: string;
  let env: NodeJS.ProcessEnv;

  const startWorker = () => {
    const worker = warren(["worker"], env);
    workers.push(worker);
    return worker;
  };

  beforeAll(async () => {
    redis = await startRedis();
    env = { REDIS_URL: redis.url, WARREN_QUEUE: `e2e-${randomUUID().slice(0, 8)}`, ...FAST_STALL };
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = warren(["serve", "--no-worker", "--port", String(port), "--host", "127.0.0.1"], env);
    startWorker();
    startWorker();
    await until200(`${base}/readyz`, () => `${api.log()}\n${workers.map((worker) => worker.log()).join("\n")}`);
  });

  afterAll(async () => {
    for (const worker of workers) await stop(worker.child);
    if (api !== undefined) await stop(api.child);
    await redis?.dispose();
  });

  it("completes many concurrent runs, each with its own correct result", async () => {
    const count = 40;
    const submitted = await Promise.all(
      Array.from({ length: count }, async (_, index) => {
        const body =
          index % 4 === 3
            ? { language: "c", files: [{ path: "main.c", content: `#include <stdio.h>\nint main(void) { printf("c%d\\n", ${index}); return ${index % 2}; }` }] }
            : { language: "python", files: [{ path: "main.py", content: `print("py${index}")` }] };
        const { status, body: answer } = await postRun(base, body);
        expect(status).toBe(202);
        return { index, id: answer.id as string };
      }),
    );
    for (const { index, id } of submitted) {
      const result = await eventually(`run ${index}`, async () => {
        const body = runResultSchema.parse(await (await fetch(`${base}/v1/runs/${id}`)).json());
        return body.status === "completed" || body.status === "failed" ? body : undefined;
      }, 120_000, 100);
      if (index % 4 === 3) expect(result).toMatchObject({ status: "completed", verdict: index % 2 === 1 ? "runtime_error" : "accepted", run: { stdout: `c${index}\n` } });
      else expect(result).toMatchObject({ status: "completed", verdict: "accepted", run: { stdout: `py${index}\n` } });
    }
  });

  it("finishes a job on another worker when its worker is SIGKILLed mid-job, leaving no stray process or cgroup", async () => {
    // Only one worker may take the job: stop the others first, start a second one once the job runs.
    for (const worker of workers.splice(0)) await stop(worker.child);
    const doomed = startWorker();
    const marker = `marker-${randomUUID()}`;
    const driver = detectCgroupDriver();
    const parents = driver.parents(resolveCgroupRoot(driver, testSettings().sandbox.cgroupRoot));
    const before = new Set(parents.flatMap((parent) => childDirs(parent)));
    const { body } = await postRun(base, { language: "python", files: [{ path: "main.py", content: "import time\nprint('start', flush=True)\ntime.sleep(3)\nprint('done')" }], args: [marker] });
    const id = body.id as string;
    await eventually("the job to run on the first worker", async () => ((await (await fetch(`${base}/v1/runs/${id}`)).json()) as { status: string }).status === "running" || undefined, 60_000, 50);
    await eventually("the program to start", () => (processesWith(marker).length > 0 ? true : undefined), 20_000);
    const rescuer = startWorker();
    doomed.child.kill("SIGKILL");
    const result = await eventually("the job to complete on the other worker", async () => {
      const current = runResultSchema.parse(await (await fetch(`${base}/v1/runs/${id}`)).json());
      return current.status === "completed" || current.status === "failed" ? current : undefined;
    }, 90_000, 200);
    expect(result).toMatchObject({ status: "completed", verdict: "accepted", run: { stdout: "start\ndone\n" } });
    expect(rescuer.log()).toContain(id);
    await eventually("no process of the killed worker's sandbox left", () => (processesWith(marker).length === 0 ? true : undefined), 20_000);
    await eventually("no stray cgroup left", () => {
      // a live launcher's cgroup (`warren-<its pid>`) may be one made ahead for its next execution
      const stray = parents.flatMap((parent) => childDirs(parent)).filter((dir) => !before.has(dir) && isEmptyCgroup(dir) && !ownerAlive(dir));
      return stray.length === 0 ? true : undefined;
    }, 20_000, 200);
  }, 180_000);

  it("answers 503 while Redis is down and recovers when it is back", async () => {
    await redis.stop();
    const down = await fetch(`${base}/v1/runs/${randomUUID()}`);
    expect(down.status).toBe(503);
    expect(((await down.json()) as { error: { code: string } }).error.code).toBe("unavailable");
    expect((await fetch(`${base}/readyz`)).status).toBe(503);
    expect((await postRun(base, { language: "python", files: [{ path: "main.py", content: "print(1)" }] })).status).toBe(503);
    await redis.start();
    await until200(`${base}/readyz`, api.log, 60_000);
    const { status, body } = await postRun(base, { language: "python", files: [{ path: "main.py", content: "print('back')" }] }, true);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: "completed", run: { stdout: "back\n" } });
  });
});

function childDirs(parent: string): string[] {
  try {
    return fs.readdirSync(parent, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => path.join(parent, entry.name));
  } catch {
    return [];
  }
}

function ownerAlive(dir: string): boolean {
  const pid = /^warren-(\d+)$/.exec(path.basename(dir))?.[1];
  if (pid === undefined) return false;
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function isEmptyCgroup(dir: string): boolean {
  try {
    return fs.readFileSync(path.join(dir, "cgroup.procs"), "utf8").trim() === "";
  } catch {
    return false;
  }
}
