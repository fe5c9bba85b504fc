import fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { Container } from "../../src/sandbox/container/container.js";
import { sandbox, TIME_SCALE } from "../helpers/sandbox.js";
import { processesWith } from "../helpers/processes.js";

const created: Container[] = [];
afterEach(async () => {
  for (const container of created.splice(0)) await container.destroy();
});

async function container(files: { path: string; content: string }[] = []): Promise<Container> {
  const env = await sandbox();
  const made = await Container.create({ rootfs: env.image.rootfs, binds: env.image.binds, cgroups: env.cgroups, scratchMb: 16, files });
  created.push(made);
  return made;
}

// the VM suite runs under software emulation: time limits scale (WARREN_TEST_TIME_SCALE)
const limits = { wallTimeMs: 5000 * TIME_SCALE, cpuTimeMs: 5000 * TIME_SCALE, memoryMb: 128, processes: 32, outputKb: 256 };
const env = { PATH: "/usr/bin:/bin" };

describe("Container", () => {
  it("copies the job's files (with directories) in and keeps one scratch layer across execs", async () => {
    const box = await container([{ path: "main.sh", content: "cat lib/data.txt" }, { path: "lib/data.txt", content: "payload\n" }]);
    const first = await box.exec({ argv: ["bash", "main.sh"], env, limits });
    expect(first).toMatchObject({ status: "ok", exitCode: 0, signal: null });
    expect(first.stdout.toString()).toBe("payload\n");
    await box.exec({ argv: ["bash", "-c", "echo kept > /tmp/state"], env, limits });
    const third = await box.exec({ argv: ["cat", "/tmp/state"], env, limits });
    expect(third.stdout.toString()).toBe("kept\n");
  });

  it("passes stdin, env, args and cwd", async () => {
    const box = await container();
    const result = await box.exec({ argv: ["bash", "-c", 'read line; echo "$line $GREETING $0 $(pwd)"', "arg0"], env: { ...env, GREETING: "hi" }, cwd: "/tmp", stdin: "from-stdin\n", limits });
    expect(result.stdout.toString()).toBe("from-stdin hi arg0 /tmp\n");
  });

  it("keeps at most keepBytes of both streams together, counts the rest, and hands every stdout byte to onStdout", async () => {
    const box = await container();
    const seen: Buffer[] = [];
    // 200 KiB of stdout, then a line on stderr: 100 bytes are kept, first come first kept
    const result = await box.exec({
      argv: ["bash", "-c", "head -c 204800 /dev/zero | tr '\\0' x; echo oops >&2"],
      env,
      limits,
      keepBytes: 100,
      onStdout: (chunk) => seen.push(Buffer.from(chunk)),
    });
    expect(result).toMatchObject({ status: "ok", exitCode: 0, stdoutTruncated: true, stderrTruncated: true, stdoutDropped: 204_800 - 100, stderrDropped: 5 });
    expect(result.stdout.toString()).toBe("x".repeat(100));
    expect(result.stderr.length).toBe(0);
    const all = Buffer.concat(seen);
    expect(all.length).toBe(204_800);
    expect(all.every((byte) => byte === 0x78)).toBe(true);
    // without keepBytes the whole output (within outputKb) is kept, and nothing is dropped
    const whole = await box.exec({ argv: ["bash", "-c", "head -c 204800 /dev/zero"], env, limits });
    expect(whole).toMatchObject({ stdoutTruncated: false, stdoutDropped: 0, stderrDropped: 0 });
    expect(whole.stdout.length).toBe(204_800);
  });

  it("reports a program that cannot start as internal_error with the step, never an exit code", async () => {
    const box = await container();
    const result = await box.exec({ argv: ["/no/such/program"], env, limits });
    expect(result.status).toBe("internal_error");
    expect(result.exitCode).toBeNull();
    expect(result.error?.step).toBe("execve");
    expect(result.error?.errno).toBe(2);
  });

  it("says what an execve failed on: the file, the interpreter it asks for, whether it is in the job's scratch", async () => {
    const box = await container();
    const plant = [
      "printf '#!/no/such/interpreter\\n' > s",          // a script whose interpreter is missing
      "printf 'echo ran\\n' > plain",                    // a script without #!
      "printf '\\001\\002\\003' > /tmp/garbage",        // bytes
      "chmod 755 s plain /tmp/garbage",
    ].join("; ");
    expect(await box.exec({ argv: ["bash", "-c", plant], env, limits })).toMatchObject({ status: "ok", exitCode: 0 });
    const started = async (argv: string[], extraEnv: Record<string, string> = {}) => (await box.exec({ argv, env: { ...env, ...extraEnv }, limits })).error;
    expect(await started(["./s"])).toEqual({ step: "execve", errno: 2, message: "No such file or directory", path: "./s", interpreter: "/no/such/interpreter", scratch: true });
    // no /bin/sh retry (glibc's execvp would run it as a shell script): a file the kernel refuses is ENOEXEC
    expect(await started(["./plain"])).toEqual({ step: "execve", errno: 8, message: "Exec format error", path: "./plain", scratch: true });
    // PATH is searched as execvp does, and the file found is named
    expect(await started(["garbage"], { PATH: "/nowhere:/tmp:/usr/bin" })).toEqual({ step: "execve", errno: 8, message: "Exec format error", path: "/tmp/garbage", scratch: true });
    // the image's own file: not the job's
    expect(await started(["/usr/bin"])).toEqual({ step: "execve", errno: 13, message: "Permission denied", path: "/usr/bin" });
    // an ELF's missing interpreter (PT_INTERP) is named too
    const copy = "cp /usr/bin/true t && sed -i 's#/lib64/ld-linux-x86-64.so.2#/no/such/ld-linux.so\\x00\\x00\\x00\\x00\\x00\\x00\\x00#' t";
    expect(await box.exec({ argv: ["bash", "-c", copy], env, limits })).toMatchObject({ status: "ok", exitCode: 0 });
    expect(await started(["./t"])).toEqual({ step: "execve", errno: 2, message: "No such file or directory", path: "./t", interpreter: "/no/such/ld-linux.so", scratch: true });
  });

  it("refuses to exec in a destroyed container with a stable code", async () => {
    const box = await container();
    await box.destroy();
    expect(box.alive).toBe(false);
    await expect(box.exec({ argv: ["true"], env, limits })).rejects.toMatchObject({ code: "container_gone" });
  });

  it("refuses bad file paths before starting anything", async () => {
    await expect(container([{ path: "../escape", content: "" }])).rejects.toMatchObject({ code: "invalid_file_path" });
  });

  it("fails to start with the launcher's step when the rootfs does not exist", async () => {
    const env_ = await sandbox();
    await expect(Container.create({ rootfs: "/nonexistent-rootfs", cgroups: env_.cgroups })).rejects.toMatchObject({
      code: "container_start_failed",
      details: { step: "open-rootfs", errno: 2 },
    });
  });
});

describe("Container: served executions", () => {
  it("serves executions asked for at once one after another, each with its own output and status", async () => {
    const box = await container();
    const results = await Promise.all(
      [0, 1, 2, 3, 4].map((index) => box.exec({ argv: ["bash", "-c", `echo out${index}; echo err${index} >&2; sleep 0.0${index}; exit ${index}`], env, limits })),
    );
    expect(results.map((result) => [result.stdout.toString(), result.stderr.toString(), result.exitCode])).toEqual(
      [0, 1, 2, 3, 4].map((index) => [`out${index}\n`, `err${index}\n`, index]),
    );
    expect(results.map((result) => result.status)).toEqual(["ok", "runtime_error", "runtime_error", "runtime_error", "runtime_error"]);
  });

  it("carries megabytes of stdin and output byte for byte", async () => {
    const box = await container();
    const stdin = Buffer.alloc(3 * 1024 * 1024 + 7, 0);
    for (let i = 0; i < stdin.length; i += 1) stdin[i] = (i * 31 + 7) % 256;
    const result = await box.exec({ argv: ["cat"], env, stdin, limits: { ...limits, outputKb: 8 * 1024 } });
    expect(result.status).toBe("ok");
    expect(result.stdout.equals(stdin)).toBe(true);
  });

  it("gives each execution fresh cgroups: its own limits and its own peak memory, whatever ran before", async () => {
    const box = await container();
    const fill = (mb: number) => ["python3", "-c", `b = bytearray(${mb} << 20); print(len(b) >> 20)`];
    const big = await box.exec({ argv: fill(48), env, limits: { ...limits, memoryMb: 96 } });
    expect(big).toMatchObject({ status: "ok" });
    expect(big.memoryKb).toBeGreaterThan(48 * 1024);
    const small = await box.exec({ argv: ["true"], env, limits: { ...limits, memoryMb: 96 } });
    expect(small).toMatchObject({ status: "ok" });
    expect(small.memoryKb).toBeLessThan(16 * 1024);
    const over = await box.exec({ argv: fill(48), env, limits: { ...limits, memoryMb: 32 } });
    expect(over).toMatchObject({ status: "memory_limit_exceeded", oomKilled: true });
    const again = await box.exec({ argv: fill(48), env, limits: { ...limits, memoryMb: 96 } });
    expect(again).toMatchObject({ status: "ok", stdout: Buffer.from("48\n") });
  });

  it("copies files into a running container; a name that already exists is refused", async () => {
    const box = await container([{ path: "a.txt", content: "first" }]);
    await box.copyIn([{ path: "b/c.txt", content: "second" }]);
    expect((await box.exec({ argv: ["cat", "a.txt", "b/c.txt"], env, limits })).stdout.toString()).toBe("firstsecond");
    await expect(box.copyIn([{ path: "a.txt", content: "again" }])).rejects.toMatchObject({ code: "copy_in_failed" });
    expect((await box.exec({ argv: ["cat", "a.txt"], env, limits })).stdout.toString()).toBe("first");
  });

  it("writes staged files with the next exec, before its program; a failed write fails that exec and runs nothing", async () => {
    const box = await container();
    box.attachFiles([{ path: "in/x.txt", content: "staged" }]);
    expect(() => box.attachFiles([{ path: "../y", content: "" }])).toThrow(expect.objectContaining({ code: "invalid_file_path" }));
    const read = await box.exec({ argv: ["sh", "-c", "cat in/x.txt; cat"], env, stdin: "+stdin", limits });
    expect(read).toMatchObject({ status: "ok", stdout: Buffer.from("staged+stdin") });
    // staged again under a name a program has made meanwhile: the write fails (O_EXCL)
    box.attachFiles([{ path: "made", content: "x" }, { path: "later", content: "y" }]);
    await box.copyIn([{ path: "made", content: "first" }]);
    await expect(box.exec({ argv: ["touch", "ran"], env, limits })).rejects.toMatchObject({ code: "copy_in_failed" });
    expect((await box.exec({ argv: ["sh", "-c", "ls; cat made"], env, limits })).stdout.toString()).toBe("in\nmade\nfirst");
  });

  it("usage() reads the running execution's own accounting: the first's in the container's own cgroup, a later one's below it, never the first's", async () => {
    const box = await container();
    /** Runs ARGV as a stream until it prints "ready", reads usage() then, and ends it. */
    const usageWhile = async (argv: string[]) => {
      let ready!: () => void;
      const printed = new Promise<void>((resolve) => {
        ready = resolve;
      });
      const stream = box.start({ argv, env, limits, onStdout: (chunk) => chunk.toString().includes("ready") && ready() });
      await printed;
      const usage = await box.usage();
      await stream.end();
      expect(await stream.result).toMatchObject({ status: "ok" });
      return usage;
    };
    // the first holds 48 MiB and burns CPU; then the second, which does neither
    const first = await usageWhile(["python3", "-c", "import sys, time\nb = bytes(range(256)) * (3 << 16)\nt = time.process_time()\nwhile time.process_time() - t < 0.2: pass\nprint('ready', flush=True)\nsys.stdin.read()"]);
    expect(first).toMatchObject({ oomKills: 0 });
    expect(first!.memoryKb).toBeGreaterThanOrEqual(48 * 1024);
    expect(first!.cpuTimeMs).toBeGreaterThanOrEqual(200);
    const second = await usageWhile(["sh", "-c", "echo ready; cat"]);
    expect(second).toMatchObject({ oomKills: 0 });
    expect(second!.memoryKb).toBeLessThan(16 * 1024);
    expect(second!.cpuTimeMs).toBeLessThan(first!.cpuTimeMs);
  });

  it("usageFrames: a chunk of stdout comes with the launcher's reading of the execution's own cgroup just before it, as usage() would read it", async () => {
    const box = await container();
    type Usage = { cpuTimeMs: number; memoryKb: number; oomKills: number };
    /** Runs ARGV as a stream until it prints "ready": what came in order (the readings, the chunks), and usage() then. */
    const seenUntilReady = async (argv: string[]) => {
      const events: (["usage", Usage] | ["stdout", string])[] = [];
      let ready!: () => void;
      const printed = new Promise<void>((resolve) => {
        ready = resolve;
      });
      const stream = box.start({
        argv,
        env,
        limits,
        usageFrames: true,
        onStdout: (chunk, usage) => {
          if (usage !== undefined) events.push(["usage", usage]);
          events.push(["stdout", chunk.toString()]);
          if (chunk.toString().includes("ready")) ready();
        },
      });
      await printed;
      const now = await box.usage();
      await stream.end();
      expect(await stream.result).toMatchObject({ status: "ok" });
      return { events, now: now! };
    };
    const first = await seenUntilReady(["python3", "-c", "import sys, time\nprint('start', flush=True)\nb = bytes(range(256)) * (3 << 16)\nt = time.process_time()\nwhile time.process_time() - t < 0.2: pass\nprint('ready', flush=True)\nsys.stdin.read()"]);
    // a reading before every chunk, never after the last
    expect(first.events.map(([kind]) => kind)).toEqual(["usage", "stdout", "usage", "stdout"]);
    const [, atStart] = first.events[0] as ["usage", Usage];
    const [, atReady] = first.events[2] as ["usage", Usage];
    expect(atStart.memoryKb).toBeLessThan(48 * 1024);
    expect(atReady.memoryKb).toBeGreaterThanOrEqual(48 * 1024);
    expect(atReady.cpuTimeMs).toBeGreaterThanOrEqual(200);
    expect(atReady).toMatchObject({ oomKills: 0 });
    // the same cgroup as usage() reads, a moment earlier
    expect(atReady.memoryKb).toBeLessThanOrEqual(first.now.memoryKb);
    expect(atReady.cpuTimeMs).toBeLessThanOrEqual(first.now.cpuTimeMs);
    expect(atReady.memoryKb).toBeGreaterThan(first.now.memoryKb - 4 * 1024);
    // the second execution's readings are its own (a cgroup below the container's), not the first's
    const second = await seenUntilReady(["sh", "-c", "echo ready; cat"]);
    expect(second.events.map(([kind]) => kind)).toEqual(["usage", "stdout"]);
    const [, own] = second.events[0] as ["usage", Usage];
    expect(own.memoryKb).toBeGreaterThan(0);
    expect(own.memoryKb).toBeLessThan(16 * 1024);
    expect(own.cpuTimeMs).toBeLessThan(atReady.cpuTimeMs);
    // without usageFrames, no readings: the answer is as before
    const plain: unknown[] = [];
    const ran = await box.exec({ argv: ["echo", "plain"], env, limits, onStdout: (_chunk, usage) => plain.push(usage) });
    expect(ran).toMatchObject({ status: "ok", stdout: Buffer.from("plain\n") });
    expect(plain).toEqual([undefined]);
  });

  it("usageFrames: the launcher reads at most once a millisecond, however many chunks a program writes", async () => {
    const box = await container();
    let chunks = 0;
    let readings = 0;
    const started = performance.now();
    const ran = await box.exec({
      argv: ["python3", "-c", "import sys\nfor i in range(20000): sys.stdout.write('x'); sys.stdout.flush()"],
      env,
      limits,
      usageFrames: true,
      onStdout: (_chunk, usage) => {
        chunks += 1;
        if (usage !== undefined) readings += 1;
      },
    });
    const elapsedMs = performance.now() - started;
    expect(ran).toMatchObject({ status: "ok", stdoutTruncated: false });
    expect(ran.stdout.length).toBe(20_000);
    expect(readings).toBeGreaterThan(0);
    expect(readings).toBeLessThanOrEqual(Math.ceil(elapsedMs) + 1);
    expect(readings).toBeLessThanOrEqual(chunks);
  });
});

describe("Container: the launcher's files", () => {
  it("keeps none of an execution's cgroup files open after it: no more fds after the sixteenth to twentieth executions (usage read on its CPU tick, before each chunk and at its end) than after the second to fifth", async () => {
    const box = await container();
    // the launcher is init's parent
    const launcher = Number(/^PPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${box.pid}/status`, "utf8"))![1]);
    // counted once the launcher is done with the execution (it answers before it closes the execution's files)
    const openFds = async () => {
      let last = -1;
      for (let i = 0; i < 100; i++) {
        const now = fs.readdirSync(`/proc/${launcher}/fd`).length;
        if (now === last) return now;
        last = now;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return last;
    };
    const counts: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const readings: unknown[] = [];
      // two chunks of stdout 15 ms apart: readings before each, a CPU tick between them, the accounting at the end
      const ran = await box.exec({
        argv: ["python3", "-c", "import sys, time\nprint('a', flush=True)\ntime.sleep(0.015)\nprint('b', flush=True)"],
        env,
        limits,
        usageFrames: true,
        onStdout: (_chunk, usage) => readings.push(usage),
      });
      expect(ran).toMatchObject({ status: "ok", stdout: Buffer.from("a\nb\n") });
      expect(readings.filter((usage) => usage !== undefined).length).toBeGreaterThan(0);
      // after its answer the launcher makes the next execution's cgroup and program ahead (a few fds of
      // their own, there or not yet when counted): the most it holds early against the most it holds late
      counts.push(await openFds());
    }
    expect(Math.max(...counts.slice(15))).toBeLessThanOrEqual(Math.max(...counts.slice(1, 5)));
  });
});

describe("Container cancellation", () => {
  it("kills a running execution and everything it started when the signal aborts", async () => {
    const box = await container();
    const controller = new AbortController();
    const marker = `warren-cancel-${process.pid}-${Date.now()}`;
    const running = box.exec({
      argv: ["bash", "-c", `(exec -a ${marker} sleep 300 &); echo started; sleep 300`],
      env,
      limits: { ...limits, wallTimeMs: 60_000, cpuTimeMs: 60_000 },
      signal: controller.signal,
    });
    // abort once the program is really running: poll the host's process list (bounded)
    for (let i = 0; i < 400 && !hostHas(marker); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(hostHas(marker)).toBe(true);
    controller.abort();
    const result = await running;
    expect(result.status).toBe("internal_error");
    expect(result.error?.step).toBe("cancelled");
    expect(result.exitCode).toBeNull();
    expect(hostHas(marker)).toBe(false);
    // the container itself is still usable
    expect((await box.exec({ argv: ["true"], env, limits })).status).toBe("ok");
  });

  it("does not start an execution whose signal is already aborted", async () => {
    const box = await container();
    const result = await box.exec({ argv: ["true"], env, limits, signal: AbortSignal.abort() });
    expect(result.error?.step).toBe("cancelled");
  });

  it("names a cancelled execution cancelled, and no other", async () => {
    const box = await container();
    expect((await box.exec({ argv: ["true"], env, limits, signal: AbortSignal.abort() })).cancelled).toBe(true);
    const controller = new AbortController();
    const running = box.exec({ argv: ["sleep", "30"], env, limits: { ...limits, wallTimeMs: 60_000, cpuTimeMs: 60_000 }, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    expect(await running).toMatchObject({ cancelled: true, status: "internal_error", error: { step: "cancelled" } });
    expect((await box.exec({ argv: ["false"], env, limits })).cancelled).toBe(false);
    expect((await box.exec({ argv: ["./missing"], env, limits })).cancelled).toBe(false);
  });
});

const hostHas = (marker: string) => processesWith(marker, { prefix: true }).length > 0;
