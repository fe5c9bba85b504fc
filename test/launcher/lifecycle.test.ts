/* A container's life: held across several programs (compile once, run many),
 * and nothing — process, cgroup, file — outliving what it belongs to. */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { TIME_SCALE } from "../helpers/sandbox.js";
import { cgroupArgs, cgroupParents, cgroupsOf, containerArgs, envArgs, launch, launcher, processesWith, py, pyOnce, served } from "./fixture.js";

const sleepFor = (marker: string) => `bash -c "exec -a ${marker} sleep 300"`;
/** Shell: start a detached sleeper named `marker`, wait until it runs, then exit. */
const orphanThenExit = (marker: string) =>
  `(${sleepFor(marker)} &); for i in $(seq 200); do ps -e -o args= | grep -q ^${marker} && exit 0; sleep 0.05; done; exit 9`;

describe("held container", () => {
  const wall = ["--wall-ms", "20000", ...envArgs];

  it("keeps the scratch layer across programs and kills each program's leftovers when it ends", async () => {
    const c = await served();
    try {
      const marker = `warren-daemon-${process.pid}-${Date.now()}`;
      // a daemon that double-forks and starts its own session to outlive the program
      const first = await c.request([...wall, "--", "sh", "-c", `echo compiled > /box/artifact; (setsid ${sleepFor(marker)} &) ; for i in $(seq 200); do ps -e -o args= | grep -q ^${marker} && break; sleep 0.05; done; ps -e -o args= | grep -c ^${marker}`]);
      expect(first.status.status).toBe("ok");
      expect(first.stdout).toBe("1\n"); // the daemon was alive when the program ended
      expect(processesWith(marker)).toEqual([]);
      // ps first, alone: in a pipeline it could catch a forked sh before its exec
      const second = await c.request([...wall, "--", "sh", "-c", "cat /box/artifact; ps -e -o comm= > /tmp/ps; sort /tmp/ps | tr '\\n' ' '"]);
      expect(second.stdout).toBe("compiled\nps sh warren-launch ");
    } finally {
      expect(await c.close()).toBe(0);
    }
    expect(cgroupsOf(c.child.pid!)).toEqual([]);
  });

  it("kills everything inside when the holder ends", async () => {
    // a program started without a cgroup, so that only the container's end can stop it
    const c = await served([], { cgroups: false });
    const marker = `warren-orphan-${process.pid}-${Date.now()}`;
    const child = await c.request([...wall, "--", "sh", "-c", orphanThenExit(marker)]);
    expect(child.status.status).toBe("ok");
    expect(processesWith(marker)).toHaveLength(1); // without a cgroup, the orphan lives on in the container…
    await c.close();
    expect(processesWith(marker)).toEqual([]); // …until the container ends
  });

  it("does not let a program kill the container's init", async () => {
    const c = await served();
    try {
      const r = await c.request([...wall, "--", "sh", "-c", "kill -9 1; kill -TERM 1; echo $?"]);
      expect(r.stdout).toBe("0\n");
      expect((await c.request([...wall, "--", "true"])).status.status).toBe("ok");
    } finally {
      await c.close();
    }
  });
});

describe("an execution", () => {
  it("drains stdout and stderr concurrently: a program flooding both while ignoring stdin does not deadlock", async () => {
    const r = await py(`
import os, threading
def flood(fd):
    chunk = b"x" * 65536
    while True: os.write(fd, chunk)
threading.Thread(target=flood, args=(2,), daemon=True).start()
flood(1)`, ["--output-kb", "512"]);
    expect(r.status.status).toBe("output_limit_exceeded");
    expect(r.status.outputTruncated).toBe(true);
    expect(r.stdout.length + r.stderr.length).toBe(512 * 1024);
    expect(r.status.stdoutBytes! + r.status.stderrBytes!).toBe(512 * 1024);
  });

  it("reports the cgroup's peak memory and kills at the memory limit", async () => {
    const fits = await py(`b = bytearray(48 << 20); b[::4096] = b"x" * len(b[::4096]); print(len(b))`, ["--memory-mb", "128"]);
    expect(fits.status.status).toBe("ok");
    expect(fits.status.memoryKb!).toBeGreaterThan(48 * 1024);
    expect(fits.status.memoryKb!).toBeLessThanOrEqual(128 * 1024);
    const bomb = await py(`b = []\nwhile True: b.append(bytearray(1 << 20))`, ["--memory-mb", "64"]);
    expect(bomb.status).toMatchObject({ status: "memory_limit_exceeded", signal: "SIGKILL", exitCode: null, oomKilled: true });
  });

  it("stops a fork bomb at the process limit", async () => {
    const r = await py(`
import os, errno
n = 0
try:
    while True:
        if os.fork() == 0:
            import time; time.sleep(30); os._exit(0)
        n += 1
except OSError as e: print("fork", errno.errorcode[e.errno], n)`, ["--pids", "20"]);
    expect(r.status.status).toBe("ok");
    expect(r.stdout.trim()).toBe("fork EAGAIN 19");
  });

  it("enforces CPU time from cgroup accounting and wall time from outside", async () => {
    const cpu = await py(`while True: pass`, ["--cpu-ms", "300"]);
    expect(cpu.status.status).toBe("time_limit_exceeded");
    expect(cpu.status.cpuTimeMs!).toBeGreaterThanOrEqual(300);
    const box = await served();
    try {
      const wall = await box.request([...envArgs, "--wall-ms", "200", "--cpu-ms", "5000", "--", "sleep", "30"]);
      expect(wall.status.status).toBe("time_limit_exceeded");
      expect(wall.status.wallTimeMs!).toBeGreaterThanOrEqual(200);
      // killed by its wall time, burning none of its CPU time: `sleep`'s own start is all it spent (under the
      // cgroup v2 VM's emulation of a busy host, once 203 ms: scaled there)
      expect(wall.status.cpuTimeMs!).toBeLessThan(200 * TIME_SCALE);
    } finally {
      await box.close();
    }
  });
});

/* A limit hit, or a cancel, while init is still forking the program: the
 * program's cgroup is empty then, and a kill sent once found nothing; the
 * program ran on to its own end, past every limit (one round in five here
 * before the launcher killed again on each tick until the program's end). */
describe("a kill that comes before the program has joined its cgroup", () => {
  const rounds = 20;
  const runFor = 3 * TIME_SCALE; // seconds: what the program would run if the kill were lost
  const bound = 1500 * TIME_SCALE;

  it("one-shot, --wall-ms 1: every round ends at once as time_limit_exceeded", () => {
    for (let round = 0; round < rounds; round += 1) {
      const ran = launch([...containerArgs, ...cgroupArgs, ...envArgs, "--wall-ms", "1"], ["sleep", String(runFor)]);
      expect(ran.status.status, `round ${round}`).toBe("time_limit_exceeded");
      expect(ran.status.wallTimeMs!, `round ${round}`).toBeLessThan(bound);
    }
  });

  it("served, --wall-ms 1: every round ends at once, and the container serves on", async () => {
    const box = await served();
    try {
      for (let round = 0; round < rounds; round += 1) {
        const answer = await box.request([...envArgs, "--wall-ms", "1", "--", "sleep", String(runFor)]);
        expect(answer.status.status, `round ${round}`).toBe("time_limit_exceeded");
        expect(answer.status.wallTimeMs!, `round ${round}`).toBeLessThan(bound);
      }
      expect((await box.request([...envArgs, "--wall-ms", "20000", "--", "echo", "on"])).stdout).toBe("on\n");
    } finally {
      await box.close();
    }
  });
});

/* The command line: a held container with one request, its output on the
 * launcher's stdout and stderr, its status on --status-fd, its exit code the
 * launcher's. */
describe("one-shot run", () => {
  it("leaves no process and no cgroup behind when the program ends", () => {
    const marker = `warren-leftover-${process.pid}-${Date.now()}`;
    const r = launch([...containerArgs, ...cgroupArgs, ...envArgs, "--wall-ms", "20000", "--pids", "16"], ["sh", "-c", orphanThenExit(marker)]);
    expect(r.status.status).toBe("ok");
    expect(processesWith(marker)).toEqual([]);
    expect(cgroupsOf(r.pid)).toEqual([]);
  });

  it("runs its program in the container's own cgroup, as a served container's first request (one level)", async () => {
    const child = spawn(launcher, [...containerArgs, ...cgroupArgs, ...envArgs, "--wall-ms", "20000", "--", "sleep", "30"], { stdio: "ignore" });
    try {
      const below = await eventually("the one-shot's program in its cgroups", () => {
        const dirs = cgroupsOf(child.pid!);
        const running = dirs.length === cgroupParents.length && dirs.every((dir) => fs.readFileSync(`${dir}/cgroup.procs`, "utf8").trim() !== "");
        return running ? dirs.map((dir) => fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)) : undefined;
      });
      expect(below).toEqual(cgroupParents.map(() => []));
    } finally {
      child.kill("SIGTERM");
    }
    expect(await new Promise((resolve) => child.once("exit", (code) => resolve(code)))).toBe(125); // cancelled
    expect(cgroupsOf(child.pid!)).toEqual([]);
  });

  it("passes stdin through and reports exit codes and signals", () => {
    const echo = launch([...containerArgs, ...envArgs], ["sh", "-c", "read x; echo got $x; exit 3"], "hello\n");
    expect(echo.stdout).toBe("got hello\n");
    expect(echo.status).toMatchObject({ status: "runtime_error", exitCode: 3, signal: null });
    expect(echo.code).toBe(3);
    const sig = launch([...containerArgs, ...envArgs], ["sh", "-c", "kill -SEGV $$"]);
    expect(sig.status).toMatchObject({ status: "runtime_error", exitCode: null, signal: "SIGSEGV" });
    expect(sig.code).toBe(128 + 11);
  });

  it("exits 137 at the memory limit and 124 at a time limit, with the status line and its timings", () => {
    const bomb = pyOnce(`b = []\nwhile True: b.append(bytearray(1 << 20))`, ["--memory-mb", "64"]);
    expect(bomb.status).toMatchObject({ status: "memory_limit_exceeded", signal: "SIGKILL", exitCode: null, oomKilled: true });
    expect(bomb.code).toBe(137);
    const wall = launch([...containerArgs, ...cgroupArgs, ...envArgs, "--wall-ms", "200", "--cpu-ms", "5000", "--timings"], ["sleep", "30"]);
    expect(wall.status.status).toBe("time_limit_exceeded");
    expect(wall.status.wallTimeMs!).toBeGreaterThanOrEqual(200);
    expect(wall.code).toBe(124);
    expect(wall.status.timings).toEqual({ containerUs: expect.any(Number), execUs: expect.any(Number), teardownUs: expect.any(Number) });
  });
});
