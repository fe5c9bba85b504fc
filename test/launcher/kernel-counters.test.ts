/* The kernel's per-user counters (SECURITY.md, finding 3): a hostile job takes
 * all it can of each — inotify instances, queued signals, POSIX message queue
 * bytes, processes — while the host, as the test's own uid (root, or the
 * rootless runner, whose uid the sandbox shares), keeps using them. Before the
 * fix, the container's user namespace was owned by whoever started the
 * launcher and nothing bounded the container's share: root's sigqueue() failed
 * with EAGAIN and its inotify_init1() with EMFILE for as long as the job ran. */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { encodeJobFiles } from "../../src/sandbox/container/job-files.js";
import { TIME_SCALE } from "../helpers/sandbox.js";
import { envArgs, served } from "./fixture.js";

const programs = path.join(import.meta.dirname, "programs");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "warren-counters-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Hog {
  inotify: number; inotifyErrno: number; watches: number; watchesErrno: number; signals: number; signalsErrno: number; queues: number; queuesErrno: number;
  children: number; forkErrno: number; fanotifyErrno: number; userNsErrno: number; aioErrno: number; hugetlbErrno: number; keysErrno: number;
  maxInotifyInstances: number; maxInotifyWatches: number; maxUserNamespaces: number; maxFanotifyGroups: number;
}
interface Probe {
  rounds: number; inotifyFailed: number; inotifyErrno: number; watchesFailed: number; watchesErrno: number; signalsFailed: number; signalsErrno: number;
  queuesFailed: number; queuesErrno: number; forksFailed: number; forkErrno: number;
}

/** The host's probe, built with the host's compiler and run as this process's own uid. */
function probe(durationMs: number): Promise<Probe> {
  const binary = path.join(tmp, "probe");
  if (!fs.existsSync(binary)) {
    const built = spawnSync("gcc", ["-O2", "-o", binary, path.join(programs, "counters-probe.c")], { encoding: "utf8" });
    if (built.status !== 0) throw new Error(`gcc counters-probe.c: ${built.stderr}`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [String(durationMs)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out) as Probe) : reject(new Error(`probe exited ${code}: ${out}`))));
  });
}

const EAGAIN = 11, EMFILE = 24, EPERM = 1, ENOSPC = 28;

describe("per-user kernel counters", () => {
  it("a job cannot make the host's own inotify, signals, message queues or forks fail, and its share is bounded", async () => {
    const box = await served();
    try {
      const limits = ["--memory-mb", "256", "--pids", "32", "--wall-ms", String(60_000 * TIME_SCALE), ...envArgs];
      const files = encodeJobFiles([{ path: "hog.c", content: fs.readFileSync(path.join(programs, "counters-hog.c")) }]);
      const built = await box.request([...limits, "--unpack-first", String(files.length), "--", "gcc", "-O2", "-o", "hog", "hog.c", "-lrt"], files);
      expect(built.status, built.stderr).toMatchObject({ status: "ok" });

      const holdMs = 1500 * TIME_SCALE;
      // the host uses every counter every 20 ms from before the job starts until after it ends
      const host = probe(holdMs + 1500 * TIME_SCALE);
      const ran = await box.request([...limits, "--", "./hog", String(holdMs)]);
      expect(ran.status, ran.stderr).toMatchObject({ status: "ok", exitCode: 0 });
      const hog = JSON.parse(ran.stdout) as Hog;
      const seen = await host;

      // the container's share: the limits of its own user namespace (at most an eighth of the host's per-user ones) and its rlimits
      const share = (file: string, most: number) => Math.min(most, Math.floor(Number(fs.readFileSync(`/proc/sys/fs/inotify/${file}`, "utf8")) / 8));
      const instances = share("max_user_instances", 16), watches = share("max_user_watches", 8192);
      expect(hog).toMatchObject({ maxInotifyInstances: instances, maxInotifyWatches: watches, maxUserNamespaces: 0 });
      expect(hog).toMatchObject({ inotify: instances, inotifyErrno: EMFILE, watches, watchesErrno: ENOSPC, signals: 256, signalsErrno: EAGAIN, queues: 1, queuesErrno: EMFILE });
      expect(hog).toMatchObject({ children: 31, forkErrno: EAGAIN }); // the hog itself is the 32nd process
      // refused outright: namespaces, fanotify, aio contexts (aio-max-nr is the host's), hugetlb pages, keys
      expect(hog).toMatchObject({ userNsErrno: EPERM, fanotifyErrno: EPERM, aioErrno: EPERM, hugetlbErrno: EPERM, keysErrno: EPERM });
      if (hog.maxFanotifyGroups !== -1) expect(hog.maxFanotifyGroups).toBe(0); // absent before Linux 5.13

      // and the host did not notice
      expect(seen.rounds).toBeGreaterThan(20);
      expect(seen).toMatchObject({ inotifyFailed: 0, watchesFailed: 0, signalsFailed: 0, queuesFailed: 0, forksFailed: 0 });
    } finally {
      await box.close();
    }
  });
});
