// The zygote (docs/functions.md, "The zygote"; SECURITY.md): a Python
// handler's invocations as children of a process that imported the handler
// once, each in fresh namespaces, cgroup and scratch. Real kernel, real
// sandboxes, the real launcher and libwarren-zygote.so.
import { describe, expect, it } from "vitest";
import type { FunctionVersion, InvocationOutcome } from "../../src/run/functions.js";
import { type SandboxFunctionRuntime } from "../../src/worker/functions/runtime.js";
import { eventually } from "../helpers/eventually.js";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { processesWith } from "../helpers/processes.js";
import { TIME_SCALE } from "../helpers/sandbox.js";
import { deploy, json, runtimes, source, version } from "./fixtures.js";

const runtime = runtimes(true);

let ids = 0;
const call = (rt: SandboxFunctionRuntime, fn: FunctionVersion, event = json(null), logs = false) => rt.invoke(fn, event, { id: `zyg-${++ids}`, logs });
const body = (outcome: InvocationOutcome): any => {
  if (outcome.status !== "ok") throw new Error(`invocation failed: ${JSON.stringify({ ...outcome, body: outcome.body.toString() })}`);
  return JSON.parse(outcome.body.toString());
};

/** How many pid namespaces host process PID is in (NSpid: a zygote and a forked helper are in 2, a child is in 3, pid 1 of its own); 0 once gone. */
const depth = (pid: number) => {
  try {
    return /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]?.trim().split(/\s+/).length ?? 0;
  } catch {
    return 0; // gone meanwhile
  }
};

/** The zygotes of function NAME (their children have their command line too: they were forked, never exec'd). */
const zygotesOf = (name: string) => processesWith(`python_shim.py\u0000zygote\u0000main\u0000handler\u0000${name}\u0000`).filter((pid) => depth(pid) === 2);

/** Invokes FN once (cold: none yet) and waits until its zygote is up. */
async function withZygote(rt: SandboxFunctionRuntime, fn: FunctionVersion): Promise<void> {
  await call(rt, fn);
  await eventually("a zygote to be up", () => (rt.zygotes >= 1 ? true : undefined));
}

// What a handler reports of where it runs: pid 1 of its own pid namespace is a zygote's child (a prepared container's program is not).
const WHERE = "import os\ndef where():\n    return {'pid': os.getpid(), 'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit())}\n";

describe("the zygote", () => {
  it("answers a Python handler's invocations from children of a zygote once it is up: warm, each pid 1 of its own pid namespace", async () => {
    const rt = await runtime();
    const fn = await deploy(rt, source("python", { "main.py": `${WHERE}def handler(event, context):\n    return {'twice': event * 2, **where()}\n` }));
    const first = await call(rt, fn, json(1));
    expect(first.cold).toBe(true);
    await eventually("a zygote to be up", () => (rt.zygotes >= 1 ? true : undefined));
    for (let i = 0; i < 3; i++) {
      const outcome = await call(rt, fn, json(i));
      expect(outcome.cold).toBe(false);
      expect(body(outcome)).toEqual({ twice: i * 2, pid: 1, pids: [1] });
      expect(outcome.cpuTimeMs).toBeGreaterThan(0);
      expect(outcome.memoryKb).toBeGreaterThan(0);
      // the handler's own time, as the child's shim measured it: a part of the duration, which has the child's fork too
      expect(outcome.handlerMs).toBeGreaterThanOrEqual(0);
      expect(outcome.handlerMs).toBeLessThanOrEqual(outcome.durationMs);
    }
    expect(rt.warm).toBe(0); // no prepared containers are kept for a version its zygotes serve
    // a free zygote is warm capacity a distributed worker advertises (warm routing)
    // (each is free again once its child has ended, a moment after the answer; back to back, a second may have started)
    const advert = await eventually("its zygotes to be free", () => (rt.warmVersions()[0]?.ready ?? 0) >= 1 ? rt.warmVersions() : undefined);
    expect(advert).toEqual([{ name: fn.name, number: fn.number, ready: expect.any(Number) }]);
  });

  it("a global, a file in /tmp, /dev/shm or the work dir, and a daemon left by one child are not seen by the next; what the import did is", async () => {
    const rt = await runtime();
    const marker = `warren-zygote-daemon-${process.pid}`;
    const src = source("python", {
      "main.py": [
        "import os, subprocess, time",
        "imported = open('imported.txt', 'w').write('at import') and 'yes'",
        "def daemon():",
        "    return any(open('/proc/%s/cmdline' % p, 'rb').read().startswith(b'" + marker + "') for p in os.listdir('/proc') if p.isdigit())",
        "calls = 0",
        "def handler(event, context):",
        "    global calls",
        "    calls += 1",
        "    seen = {'calls': calls, 'imported': imported, 'import_file': os.path.exists('imported.txt'),",
        "            'left': [p for p in ('/tmp/left', '/dev/shm/left', 'left') if os.path.exists(p)],",
        "            'daemon': daemon()}",
        "    for p in ('/tmp/left', '/dev/shm/left', 'left'):",
        "        open(p, 'w').write('x')",
        "    subprocess.Popen(['bash', '-c', 'exec -a " + marker + " sleep 1000'], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)",
        "    for _ in range(200):",
        "        if daemon():",
        "            break",
        "        time.sleep(0.01)",
        "    seen['started'] = daemon()  # the daemon runs when the handler returns: the next child must not see it",
        "    return seen",
        "",
      ].join("\n"),
    });
    const fn = await deploy(rt, src);
    await withZygote(rt, fn);
    for (let i = 0; i < 3; i++) {
      const outcome = await call(rt, fn);
      expect(outcome.cold).toBe(false);
      expect(body(outcome)).toEqual({ calls: 1, imported: "yes", import_file: true, left: [], daemon: false, started: true });
    }
    await eventually("every daemon to be gone with its child", () => (processesWith(marker, { prefix: true }).length === 0 ? true : undefined));
  });

  it("gives each child its own random state, and no way to reach its zygote or make namespaces and mounts", async () => {
    const rt = await runtime();
    const src = source("python", {
      "main.py": [
        "import ctypes, errno, os, random",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "def tried(call):",
        "    rc = call()",
        "    return 'allowed' if rc == 0 else errno.errorcode[ctypes.get_errno()]",
        "def handler(event, context):",
        "    try:",
        "        open('/etc/warren-zygote-test', 'w')",
        "        root = 'writable'",
        "    except OSError as error:",
        "        root = errno.errorcode[error.errno]",
        "    return {'random': random.random(), 'ppid': os.getppid(), 'root': root,",
        "            'unshare': tried(lambda: libc.unshare(0x10000000)),",
        "            'mount': tried(lambda: libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)),",
        "            'timer_list': open('/proc/timer_list').read()}",
        "",
      ].join("\n"),
    });
    const fn = await deploy(rt, src);
    await withZygote(rt, fn);
    const a = body(await call(rt, fn));
    const b = body(await call(rt, fn));
    expect(a.random).not.toBe(b.random);
    expect(a).toMatchObject({ ppid: 0, root: "EROFS", unshare: "EPERM", mount: "EPERM", timer_list: "" });
  });

  it("enforces the function's limits on each child and keeps the zygote for the next: out of memory, timeout, a process that exits", async () => {
    const timeout = 1500 * TIME_SCALE;
    const rt = await runtime();
    const src = source(
      "python",
      {
        "main.py": [
          "import os, time",
          "def handler(event, context):",
          "    if event == 'memory':",
          "        hog = [bytearray(1 << 20) for _ in range(512)]",
          "    if event == 'sleep':",
          "        time.sleep(1000)",
          "    if event == 'exit':",
          "        os._exit(3)",
          "    return os.getpid()",
          "",
        ].join("\n"),
      },
      { limits: { memoryMb: 64, wallTimeMs: timeout } },
    );
    const fn = await deploy(rt, src);
    await withZygote(rt, fn);
    const first = zygotesOf(src.name);
    expect(first).toHaveLength(1);
    expect(await call(rt, fn, json("memory"))).toMatchObject({ status: "function_memory_exceeded", cold: false });
    expect(body(await call(rt, fn, json("ok")))).toBe(1);
    expect(await call(rt, fn, json("sleep"))).toMatchObject({ status: "function_timeout", cold: false });
    expect(await call(rt, fn, json("exit"))).toMatchObject({ status: "function_error", error: { type: "ExitCode" } });
    const after = await call(rt, fn, json("ok"));
    expect(after.cold).toBe(false);
    expect(body(after)).toBe(1);
    expect(zygotesOf(src.name)).toContain(first[0]); // kept through all of it (a second may have joined it: back to back)
  });

  it("replaces a zygote that died: the invocation that found it gone is answered another way", async () => {
    const rt = await runtime();
    const src = source("python", { "main.py": `${WHERE}def handler(event, context):\n    return where()['pid']\n` });
    const fn = await deploy(rt, src);
    await withZygote(rt, fn);
    const zygotes = zygotesOf(src.name);
    expect(zygotes).toHaveLength(1);
    process.kill(zygotes[0]!, "SIGKILL");
    const outcome = await call(rt, fn);
    expect(outcome.status).toBe("ok");
    await eventually("another zygote to be up", () => (rt.zygotes === 1 && zygotesOf(src.name).length === 1 ? true : undefined));
    expect(body(await call(rt, fn))).toBe(1);
  });

  it("retire() lets the zygotes go, but an invocation running on one finishes on it", async () => {
    const rt = await runtime();
    const src = source("python", { "main.py": "import time\ndef handler(event, context):\n    if event == 'slow':\n        time.sleep(1)\n    return 'done'\n" });
    const fn = await deploy(rt, src);
    await withZygote(rt, fn);
    const running = call(rt, fn, json("slow"));
    await eventually("the slow child to run", () => (processesWith(src.name).length >= 1 ? true : undefined));
    await rt.retire(fn.name);
    expect(body(await running)).toBe("done");
    await eventually("the zygote to be gone", () => (processesWith(`zygote\u0000main\u0000handler\u0000${src.name}`).length === 0 && rt.zygotes === 0 ? true : undefined));
  });

  it("makes a child in one clone, ahead of its event, while its zygote has one thread; by libc's fork and a pid 1 forked from it, when the event comes, once the import left a thread running", async () => {
    const rt = await runtime();
    for (const threads of [false, true]) {
      const name = `zyg-tree-${process.pid}-${threads ? "threads" : "single"}`;
      const thread = threads ? "threading.Thread(target=time.sleep, args=(10**6,), daemon=True).start()\n" : "";
      const src = source("python", { "main.py": `${WHERE}import threading, time\n${thread}def handler(event, context):\n    time.sleep(${2 * TIME_SCALE})\n    return {'threads': threading.active_count(), **where()}\n` }, { name });
      const fn = await deploy(rt, src);
      await withZygote(rt, fn);
      const running = call(rt, fn);
      // the zygote's processes (its children have its command line: they were forked, never exec'd) once the child runs
      const tree = await eventually("the child to run", () => {
        const pids = processesWith(`zygote\0main\0handler\0${name}\0`);
        return pids.some((pid) => depth(pid) === 3) ? pids.map(depth).sort() : undefined;
      });
      expect(tree).toEqual(threads ? [2, 2, 3] : [2, 3]);
      expect(body(await running)).toEqual({ threads: 1, pid: 1, pids: [1] });
      // between invocations: the next child waits, set up, for its event (one clone); with libc's fork there is none until the event comes
      const idle = await eventually(threads ? "the invocation's processes to be gone" : "the next child to be made ahead", () => {
        const depths = processesWith(`zygote\0main\0handler\0${name}\0`).map(depth).sort();
        return depths.length === (threads ? 1 : 2) ? depths : undefined;
      });
      expect(idle).toEqual(threads ? [2] : [2, 3]);
      if (!threads) {
        // and locked down before its event exists (once its set-up is done: it is seen as soon as it is
        // cloned): no capability, the program's filter on top of the zygote's; and it has made its own
        // copies of the pages a child writes first (learnt by the zygote: docs/functions.md), some 1 MiB
        // here (56 kB without), and mapped the runtime's code and read-only data the shim's path reads
        // (a fork maps none of it): most of what the zygote has mapped of its files (here 4.9 of 6.3 MiB;
        // 1.1 MiB without)
        const pids = processesWith(`zygote\0main\0handler\0${name}\0`);
        const [zygote, child] = [pids.find((pid) => depth(pid) === 2)!, pids.find((pid) => depth(pid) === 3)!];
        const status = (pid: number) => Object.fromEntries(fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").map((line) => line.split(/:\s*/, 2)));
        const privateKb = (pid: number) => Number(/^Private_Dirty:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1]);
        const fileKb = (s: Record<string, string>) => Number.parseInt(s.RssFile ?? "0", 10);
        const z = status(zygote);
        const c = await eventually("the child made ahead to be locked down, its first pages copied and its code mapped", () => {
          const now = status(child);
          return now.CapEff === "0000000000000000" && privateKb(child) > 256 && fileKb(now) > fileKb(z) / 2 ? now : undefined;
        });
        expect({ CapPrm: c.CapPrm, CapBnd: c.CapBnd, NoNewPrivs: c.NoNewPrivs, Seccomp: c.Seccomp }).toEqual({ CapPrm: "0000000000000000", CapBnd: "0000000000000000", NoNewPrivs: "1", Seccomp: "2" });
        expect(Number(c.Seccomp_filters)).toBe(Number(z.Seccomp_filters) + 1);
      }
    }
  });

  it("closes in each child a descriptor of the zygote's that the function's own at-fork handler dups: only new files the handlers make stay", async () => {
    // An at-fork handler of the function's (native code, registered at import) dups the zygote's pipe to a new
    // number in every forked process: kept, the pipe would carry what one child writes to the next. A thread
    // at import puts the zygote on libc's fork (C1, then the pid 1 forked from it), where at-fork handlers run.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-atfork-"));
    const c = path.join(dir, "atfork.c");
    fs.writeFileSync(c, "#include <pthread.h>\n#include <unistd.h>\nstatic int fd = -1, next = 200;\nstatic void child(void) { if (fd >= 0) dup2(fd, next++); }\nint arm(int f) { fd = f; return pthread_atfork(0, 0, child); }\n");
    const built = spawnSync("cc", ["-shared", "-fPIC", "-o", path.join(dir, "atfork.so"), c], { encoding: "utf8" });
    expect(built.status, built.stderr).toBe(0);
    const rt = await runtime();
    const src = source("python", {
      "atfork.so": fs.readFileSync(path.join(dir, "atfork.so")),
      "main.py": [
        "import ctypes, os, threading, time",
        "r, w = os.pipe()",
        "armed = ctypes.CDLL(os.path.abspath('atfork.so')).arm(w)",
        "threading.Thread(target=time.sleep, args=(10**6,), daemon=True).start()",
        "def handler(event, context):",
        "    open_fds = sorted(int(fd) for fd in os.listdir('/proc/self/fd') if int(fd) > 2)",
        "    return {'armed': armed, 'fds': [fd for fd in open_fds if fd >= 200]}",
        "",
      ].join("\n"),
    });
    fs.rmSync(dir, { recursive: true, force: true });
    const fn = await deploy(rt, src);
    await withZygote(rt, fn);
    for (let i = 0; i < 2; i++) {
      const outcome = await call(rt, fn);
      expect(outcome.cold).toBe(false);
      expect(body(outcome)).toEqual({ armed: 0, fds: [] });
    }
  });

  it("answers a child's invocation once its response is complete, with a live reading of the child's cgroup; with the logs, at its end", async () => {
    const rt = await runtime();
    // the handler answers, then never ends: it replaces the exit its shim calls after the response
    const src = source("python", { "main.py": "import os, threading\n\ndef handler(event, context):\n    os._exit = lambda code: threading.Event().wait()\n    return bytearray(256 * 1024)\n" }, { limits: { wallTimeMs: 3000 * TIME_SCALE } });
    const fn = await deploy(rt, src);
    await withZygote(rt, fn);
    const outcome = await call(rt, fn);
    expect(outcome, JSON.stringify(outcome.error)).toMatchObject({ status: "ok", cold: false, contentType: "application/octet-stream" });
    expect(outcome.body.equals(Buffer.alloc(256 * 1024))).toBe(true);
    expect(outcome.cpuTimeMs).toBeGreaterThan(0);
    expect(outcome.memoryKb).toBeGreaterThan(256); // the child's cgroup, not the zygote's: it holds the 256 KiB the handler made
    expect(outcome.durationMs).toBeLessThan(fn.limits.wallTimeMs);
    // its logs may still be on their way at the response: that outcome waits for the child's end, which comes at the timeout
    expect((await call(rt, fn, json(null), true)).status).toBe("function_timeout");
    expect(zygotesOf(src.name).length).toBeGreaterThan(0); // the zygote itself stays
  });

  it("reads each child's own accounting when it answers at its response: not its zygote's, nor the child's before it", async () => {
    const rt = await runtime();
    // the zygote's import peaks at 120 MiB; a "big" child holds 48 MiB at its response, a "small" one next to nothing
    const code = "x = bytearray(120 << 20)\ndel x\n\ndef handler(event, context):\n    kept = bytearray(48 << 20) if event == 'big' else b''\n    return len(kept)\n";
    const fn = await deploy(rt, source("python", { "main.py": code }, { limits: { memoryMb: 256 } }));
    await withZygote(rt, fn);
    for (const size of ["big", "small", "small", "big", "small"]) {
      const outcome = await call(rt, fn, json(size));
      expect(outcome.status).toBe("ok");
      if (size === "big") expect(outcome.memoryKb).toBeGreaterThanOrEqual(48 << 10);
      expect(outcome.memoryKb).toBeLessThan(size === "big" ? 100 << 10 : 32 << 10);
    }
  });

  it("starts a second zygote for a version invoked back to back, so that each invocation finds a child made ahead", async () => {
    const rt = await runtime();
    const fn = await deploy(rt, source("python", { "main.py": "def handler(event, context):\n    return event\n" }));
    await withZygote(rt, fn);
    expect(rt.zygotes).toBe(1);
    await eventually("a second zygote", async () => {
      for (let i = 0; i < 5; i++) expect(body(await call(rt, fn, json(i)))).toBe(i); // one right behind the other
      return rt.zygotes === 2 ? true : undefined;
    });
  });

  it("serves as many invocations at once as it has zygotes, up to its bound, each in a child of its own", async () => {
    const rt = await runtime({ maxZygotesPerVersion: 2 });
    const src = source("python", { "main.py": `${WHERE}import time\ndef handler(event, context):\n    time.sleep(0.2)\n    return where()['pid']\n` });
    const fn = await deploy(rt, src);
    await withZygote(rt, fn);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => call(rt, fn)));
    expect(outcomes.map((o) => o.status)).toEqual(Array(6).fill("ok"));
    expect(rt.zygotes).toBeLessThanOrEqual(2);
  });
});
