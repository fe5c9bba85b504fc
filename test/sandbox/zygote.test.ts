// A held container's zygote (docs/launcher.md, "Zygotes"): `--zygote-host`,
// an execution started with `--zygote` that answers once it is ready and
// runs on, and `--via-zygote` executions, each a child of it in fresh
// namespaces, a fresh cgroup and a fresh scratch. The zygote here is a small
// Python program of the test's own (the functions' shim is one too:
// test/functions/zygote.test.ts). Real kernel, real sandboxes; runs in the
// cgroup v2 VM too (test/vm).
import { afterEach, describe, expect, it } from "vitest";
import { Container } from "../../src/sandbox/container/container.js";
import { BUILT_NATIVE_DIR } from "../../src/sandbox/container/launcher-path.js";
import { eventually } from "../helpers/eventually.js";
import { processesWith } from "../helpers/processes.js";
import { sandbox, TIME_SCALE } from "../helpers/sandbox.js";

const created: Container[] = [];
afterEach(async () => {
  for (const container of created.splice(0)) await container.destroy();
});

/** A zygote: says it is ready, then each child it forks answers with what it sees; `print` of FIELDS' values (Python expressions). */
const ZYGOTE = [
  "import ctypes, json, os, sys",
  "library = ctypes.PyDLL('/warren-lib/libwarren-zygote.so')",
  "state = {'imported': 'yes'}",
  "null = os.open('/dev/null', os.O_RDWR)",
  "os.dup2(null, 1)",
  "os.dup2(null, 2)",
  "os.write(0, b'R')",
  "if library.warren_zygote_next(0) != 0:",
  "    os._exit(0)",
  "ctypes.pythonapi.PyOS_AfterFork_Child()",
  "command = sys.stdin.read()",
  "state['calls'] = state.get('calls', 0) + 1",
  "if command == 'hog':",
  "    hog = [bytearray(1 << 20) for _ in range(512)]",
  "if command == 'sleep':",
  "    import time; time.sleep(1000)",
  "if command == 'exit':",
  "    os._exit(7)",
  "print(json.dumps({'command': command, 'state': state, 'pid': os.getpid(), 'ppid': os.getppid(), 'cgroup': open('/proc/self/cgroup').read().strip(),",
  "                  'uid': os.getuid(), 'pids': [p for p in os.listdir('/proc') if p.isdigit()]}))",
  "",
].join("\n");

const limits = { wallTimeMs: 20_000 * TIME_SCALE, cpuTimeMs: 10_000 * TIME_SCALE, memoryMb: 64, processes: 32, outputKb: 1024 };
const env = { PATH: "/usr/bin:/bin" };

async function zygoteHost(zygoteHost = true): Promise<Container> {
  const host = await sandbox();
  const made = await Container.create({
    rootfs: host.image.rootfs,
    binds: [...host.image.binds, { source: BUILT_NATIVE_DIR, target: "/warren-lib" }],
    cgroups: host.cgroups,
    scratchMb: 16,
    files: [{ path: "zygote.py", content: ZYGOTE }],
    zygoteHost,
  });
  created.push(made);
  return made;
}

const child = (box: Container, command: string, childLimits = limits) => box.exec({ argv: ["unused"], env, limits: childLimits, stdin: command, zygote: "child" });

describe("a container's zygote", () => {
  it("answers --zygote once the program says it is ready, and runs each --via-zygote execution as a child: pid 1 of its own, its own cgroup, its own accounting", async () => {
    const box = await zygoteHost();
    const started = await box.exec({ argv: ["python3", "zygote.py"], env, limits, zygote: "start" });
    expect(started).toMatchObject({ status: "ok", exitCode: 0 });
    for (const command of ["a", "b"]) {
      const ran = await child(box, command);
      expect(ran).toMatchObject({ status: "ok", exitCode: 0 });
      const seen = JSON.parse(ran.stdout.toString());
      expect(seen).toMatchObject({ command, state: { imported: "yes", calls: 1 }, pid: 1, ppid: 0, pids: ["1"] });
      // the root of a cgroup namespace of its own, in every hierarchy
      expect((seen.cgroup as string).split("\n").every((line) => line.endsWith(":/"))).toBe(true);
      expect(ran.cpuTimeMs).toBeGreaterThan(0);
      expect(ran.memoryKb).toBeGreaterThan(0);
    }
  });

  it("enforces each child's limits (memory, wall time) and reports its exit; the zygote serves the next", async () => {
    const box = await zygoteHost();
    expect((await box.exec({ argv: ["python3", "zygote.py"], env, limits, zygote: "start" })).status).toBe("ok");
    expect(await child(box, "hog")).toMatchObject({ status: "memory_limit_exceeded" });
    expect(await child(box, "sleep", { ...limits, wallTimeMs: 500 * TIME_SCALE })).toMatchObject({ status: "time_limit_exceeded" });
    expect(await child(box, "exit")).toMatchObject({ status: "runtime_error", exitCode: 7 });
    const next = await child(box, "ok");
    expect(next.status).toBe("ok");
    expect(JSON.parse(next.stdout.toString()).state.calls).toBe(1);
  });

  it("refuses a zygote where none may be, a second zygote, and a child without one; a zygote that ended is gone", async () => {
    const plain = await zygoteHost(false);
    expect(await plain.exec({ argv: ["python3", "zygote.py"], env, limits, zygote: "start" })).toMatchObject({ status: "internal_error", error: { step: "options" } });
    const box = await zygoteHost();
    expect(await child(box, "x")).toMatchObject({ status: "internal_error", error: { step: "zygote-gone" } });
    // a program that ends without saying it is ready is an execution like any other, and leaves no zygote
    const ended = await box.exec({ argv: ["python3", "-c", "print('not a zygote')"], env, limits, zygote: "start" });
    expect(ended).toMatchObject({ status: "ok" });
    expect(ended.stdout.toString()).toBe("not a zygote\n");
    expect(await child(box, "x")).toMatchObject({ status: "internal_error", error: { step: "zygote-gone" } });
    expect((await box.exec({ argv: ["python3", "zygote.py"], env, limits, zygote: "start" })).status).toBe("ok");
    expect(await box.exec({ argv: ["python3", "zygote.py"], env, limits, zygote: "start" })).toMatchObject({ status: "internal_error", error: { step: "zygote-running" } });
    // the zygote killed (here: its children's requests have nothing to fork them)
    const killer = "import os, signal\nfor p in os.listdir('/proc'):\n    if p.isdigit() and open('/proc/%s/cmdline' % p, 'rb').read() == b'python3\\0zygote.py\\0':\n        os.kill(int(p), signal.SIGKILL)\n";
    const kill = await box.exec({ argv: ["python3", "-c", killer], env, limits });
    expect(kill.status).toBe("ok");
    expect(await child(box, "x")).toMatchObject({ status: "internal_error", error: { step: "zygote-gone" } });
  });

  it("refuses, and kills, a zygote that says it is ready with a process of its own left running beside it", async () => {
    const box = await zygoteHost();
    const marker = `warren-zygote-helper-${process.pid}`;
    const leaves = `import subprocess\nsubprocess.Popen(['bash', '-c', 'exec -a ${marker} sleep 1000'])\n${ZYGOTE}`;
    const started = await box.exec({ argv: ["python3", "-c", leaves], env, limits, zygote: "start" });
    expect(started).toMatchObject({ status: "internal_error", error: { step: "zygote-not-alone" } });
    expect(await child(box, "x")).toMatchObject({ status: "internal_error", error: { step: "zygote-gone" } });
    await eventually("the helper to be gone with its zygote", () => (processesWith(marker, { prefix: true }).length === 0 ? true : undefined));
    // the container takes a zygote that is alone
    expect((await box.exec({ argv: ["python3", "zygote.py"], env, limits, zygote: "start" })).status).toBe("ok");
    expect((await child(box, "ok")).status).toBe("ok");
  });
});
