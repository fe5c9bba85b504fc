// Streamed executions (Container.start, the launcher's --stdin-stream): stdin
// written while the program runs, with backpressure both ways, and every
// limit and the accounting of exec(). Real kernel, real sandboxes.
import fs from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { Container, type ExecStream } from "../../src/sandbox/container/container.js";
import type { ExecResult } from "../../src/sandbox/container/exec-types.js";
import { encodeExecRequest } from "../../src/sandbox/container/served-frames.js";
import { sandbox, TIME_SCALE } from "../helpers/sandbox.js";

const created: Container[] = [];
afterEach(async () => {
  for (const container of created.splice(0)) await container.destroy();
});

async function container(): Promise<Container> {
  const env = await sandbox();
  const made = await Container.create({ rootfs: env.image.rootfs, binds: env.image.binds, cgroups: env.cgroups, scratchMb: 16 });
  created.push(made);
  return made;
}

const limits = { wallTimeMs: 20_000 * TIME_SCALE, cpuTimeMs: 10_000 * TIME_SCALE, memoryMb: 128, processes: 32, outputKb: 1024 };
const env = { PATH: "/usr/bin:/bin" };
const MiB = 1024 * 1024;

/**
 * Writes CHUNK again and again, each write awaited, until STOP resolves; the
 * bytes whose writes resolved before (a write pending at the end resolves then).
 */
/**
 * Writes CHUNK until STOP settles; the bytes taken. With COUNT_UNTIL (a
 * performance.now() time), only writes that resolved before it count: once a
 * program was killed, the launcher drops its pending input and takes the
 * caller's writes at once until its answer comes, a window that grows with
 * the machine's load and says nothing of the backpressure before it.
 */
async function writeUntil(stream: ExecStream, chunk: Buffer, stop: Promise<unknown>, countUntil = Number.POSITIVE_INFINITY): Promise<number> {
  let ended = false;
  void stop.finally(() => {
    ended = true;
  });
  let taken = 0;
  while (!ended) {
    await stream.write(chunk);
    if (!ended && performance.now() < countUntil) taken += chunk.length;
    await new Promise((resolve) => setImmediate(resolve)); // writes after the end resolve at once: let the end be seen
  }
  return taken;
}

/**
 * After an exec of `true`, stops BOX's holder (the launcher) and starts
 * `sleep 1000` streamed with SIGNAL: its request, a byte and a MiB of stdin
 * (which `sleep` never reads) are written, then ACT (a frame it writes waits
 * behind that stdin), and the holder is continued 100 ms later. The
 * execution's result.
 */
async function startWhileHolderStopped(box: Container, signal: AbortSignal | undefined, act: (stream: ExecStream) => void): Promise<ExecResult> {
  // the holder is init's parent
  const holderPid = Number(fs.readFileSync(`/proc/${box.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
  expect(await box.exec({ argv: ["true"], env, limits })).toMatchObject({ status: "ok" });
  process.kill(holderPid, "SIGSTOP");
  try {
    const stream = box.start({ argv: ["sleep", "1000"], env, limits: { ...limits, wallTimeMs: 8_000 * TIME_SCALE }, ...(signal === undefined ? {} : { signal }) });
    await stream.write("x"); // its request is in the launcher's pipe
    const writing = stream.write(Buffer.alloc(MiB, 0x63));
    await new Promise((resolve) => setImmediate(resolve)); // the MiB is queued: what ACT writes comes after it
    act(stream);
    await sleep(100);
    process.kill(holderPid, "SIGCONT");
    const result = await stream.result;
    await writing;
    return result;
  } finally {
    if (box.alive) process.kill(holderPid, "SIGCONT");
  }
}

describe("Container.start: a streamed execution", () => {
  it("relays a ping-pong of 100 exchanges between two containers, each answer awaited before the next write", async () => {
    const [a, b] = await Promise.all([container(), container()]);
    // A starts at 0 and adds 1 to each answer; B adds 1 to each number: after 100 exchanges A has 200
    const pinger = "import sys\nn = 0\nfor _ in range(100):\n    print(n, flush=True)\n    n = int(sys.stdin.readline()) + 1\nprint('final', n, file=sys.stderr)\n";
    const adder = "import sys\nfor line in sys.stdin:\n    print(int(line) + 1, flush=True)\n";
    let sa: ExecStream | undefined;
    let lines = 0;
    const sb = b.start({ argv: ["python3", "-c", adder], env, limits, onStdout: (chunk) => void sa!.write(chunk) });
    sa = a.start({
      argv: ["python3", "-c", pinger],
      env,
      limits,
      onStdout: (chunk) => {
        lines += chunk.toString().split("\n").length - 1;
        void sb.write(chunk);
      },
    });
    const ra = await sa.result;
    await sb.end();
    const rb = await sb.result;
    expect(ra).toMatchObject({ status: "ok", exitCode: 0 });
    expect(ra.stderr.toString()).toBe("final 200\n");
    expect(lines).toBe(100);
    expect(rb).toMatchObject({ status: "ok", exitCode: 0 });
    expect(rb.stdout.toString().trim().split("\n")).toHaveLength(100);
    // the accounting is the same as exec()'s
    expect(ra.cpuTimeMs).toBeGreaterThan(0);
    expect(ra.memoryKb).toBeGreaterThan(0);
  });

  it("delivers EOF at end(), after everything written (request.stdin first)", async () => {
    const box = await container();
    const stream = box.start({ argv: ["bash", "-c", "cat; echo eof-seen"], env, limits, stdin: "first\n" });
    await stream.write("second\n");
    await stream.write(Buffer.from("x".repeat(200_000)));
    await stream.end();
    await expect(stream.write("late")).rejects.toThrow("end()");
    const result = await stream.result;
    expect(result).toMatchObject({ status: "ok", exitCode: 0 });
    expect(result.stdout.toString()).toBe(`first\nsecond\n${"x".repeat(200_000)}eof-seen\n`);
  });

  it("backpressures a caller whose program never reads, bounds what it holds, and still ends it by the wall limit", async () => {
    const box = await container();
    const wallTimeMs = 1500 * TIME_SCALE;
    // the wall clock starts in the launcher, after this: what was taken before it ran out is bounded by the pipes alone
    const countUntil = performance.now() + wallTimeMs;
    const stream = box.start({ argv: ["sleep", "1000"], env, limits: { ...limits, wallTimeMs } });
    const taken = await writeUntil(stream, Buffer.alloc(64 * 1024, 0x61), stream.result, countUntil);
    const result = await stream.result;
    expect(result.status).toBe("time_limit_exceeded");
    // the pipes (holder's stdin, the program's) and the launcher's one buffer: far less than the megabytes offered
    expect(taken).toBeLessThan(MiB);
    // writes that ignore the backpressure are refused past 1 MiB, never queued without bound
    const again = box.start({ argv: ["sleep", "1000"], env, limits: { ...limits, wallTimeMs: 1500 * TIME_SCALE } });
    const writes: Promise<void>[] = [];
    let refused: unknown;
    for (let i = 0; i < 64 && refused === undefined; i += 1) {
      const write = again.write(Buffer.alloc(64 * 1024));
      write.catch((error: unknown) => {
        refused = error;
      });
      writes.push(write);
      await sleep(0);
    }
    expect(refused).toBeInstanceOf(RangeError);
    expect((await again.result).status).toBe("time_limit_exceeded");
    await Promise.allSettled(writes); // the rest resolve: the execution ended
  });

  it("is destroyed at once while its stdin waits for a program that does not read, and leaves no cgroup", async () => {
    const box = await container();
    const stream = box.start({ argv: ["sleep", "1000"], env, limits: { ...limits, wallTimeMs: 600_000 } });
    const writes = Array.from({ length: 12 }, () => stream.write(Buffer.alloc(64 * 1024)));
    await writes[0];
    await sleep(200);
    // the holder is init's parent; its cgroups are named after it
    const holderPid = Number(fs.readFileSync(`/proc/${box.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[1]);
    await box.destroy(); // EOF, not the 5 s wait for SIGKILL: the holder removes its cgroups itself
    expect(box.alive).toBe(false);
    expect((await stream.result).status).toBe("internal_error");
    await Promise.all(writes);
    const host = await sandbox();
    expect(host.cgroups.filter((parent) => fs.existsSync(`${parent}/warren-${holderPid}`))).toEqual([]);
  });

  it("drops the rest of the input of a program that exits early (EPIPE, never SIGPIPE), and the container serves on", async () => {
    const box = await container();
    // closes its stdin and runs on a while: the launcher's writes meet EPIPE
    const stream = box.start({ argv: ["sh", "-c", "head -c 10; exec 0<&-; sleep 1; echo ' closed'"], env, limits });
    const taken = await writeUntil(stream, Buffer.alloc(64 * 1024, 0x62), stream.result);
    const result = await stream.result;
    expect(result).toMatchObject({ status: "ok", exitCode: 0 });
    expect(result.stdout.toString()).toBe(`${"b".repeat(10)} closed\n`);
    expect(taken).toBeGreaterThan(0);
    expect(box.alive).toBe(true);
    const next = await box.exec({ argv: ["echo", "next"], env, limits });
    expect(next).toMatchObject({ status: "ok", exitCode: 0 });
    expect(next.stdout.toString()).toBe("next\n");
  });

  it("is cancelled mid-stream, also while the launcher is not reading the caller (its program does not read)", async () => {
    const box = await container();
    for (const argv of [["bash", "-c", "cat > /dev/null"], ["sleep", "1000"]]) {
      const abort = new AbortController();
      const stream = box.start({ argv, env, limits: { ...limits, wallTimeMs: 30_000 * TIME_SCALE }, signal: abort.signal });
      // writes go on in the background: the reader's pipe fills up for sleep
      const writing = writeUntil(stream, Buffer.alloc(64 * 1024, 0x63), stream.result);
      await stream.write("more\n");
      await sleep(300);
      abort.abort();
      const result = await stream.result;
      await writing;
      expect(result).toMatchObject({ status: "internal_error", cancelled: true, error: { step: "cancelled" } });
    }
    // a SIGUSR1 that arrives after an answer is dropped: the next execution runs whole
    const next = await box.exec({ argv: ["bash", "-c", "sleep 0.5; echo next"], env, limits });
    expect(next).toMatchObject({ status: "ok", stdout: Buffer.from("next\n") });
  });

  it("is cancelled when the cancel comes before the launcher has taken its request, behind stdin its program never reads", async () => {
    // The launcher drops a SIGUSR1 pending when it takes a request (one meant
    // for the execution before), and the cancel frame waits behind a MiB of
    // stdin that `sleep` never reads: a SIGUSR1 sent once, while the launcher
    // is slow to take the request (stopped here, as a loaded machine may
    // leave it), is lost, and the run would go on to its wall limit.
    const box = await container();
    for (let round = 0; round < 3; round += 1) {
      const abort = new AbortController();
      const t0 = performance.now();
      const result = await startWhileHolderStopped(box, abort.signal, () => abort.abort());
      expect(result, `round ${round}`).toMatchObject({ status: "internal_error", cancelled: true, error: { step: "cancelled" } });
      expect(performance.now() - t0, `round ${round}: answered only at the wall limit`).toBeLessThan(4_000 * TIME_SCALE);
    }
    // and the execution after them runs whole
    expect(await box.exec({ argv: ["bash", "-c", "sleep 0.2; echo next"], env, limits })).toMatchObject({ status: "ok", stdout: Buffer.from("next\n") });
  });

  it("delivers a signal sent before the launcher has taken its request (the holder stopped), behind stdin its program never reads", async () => {
    // The launcher drops the relayed signals pending when it takes a request
    // that are of the other parity (the execution before's), and keeps this
    // one's until the program runs: a SIGTERM sent while it is slow to take
    // the request still ends the program.
    const box = await container();
    for (let round = 0; round < 4; round += 1) {
      const result = await startWhileHolderStopped(box, undefined, (stream) => stream.signal("SIGTERM"));
      expect(result, `round ${round}`).toMatchObject({ status: "runtime_error", signal: "SIGTERM" });
    }
  });

  it("enforces the wall limit on time while the caller does not read the output the program floods", async () => {
    const box = await container();
    const stream = box.start({ argv: ["cat", "/dev/zero"], env, limits: { ...limits, outputKb: undefined, wallTimeMs: 1000 * TIME_SCALE } });
    stream.pauseOutput();
    await sleep(4000 * TIME_SCALE);
    stream.resumeOutput();
    const result = await stream.result;
    expect(result.status).toBe("time_limit_exceeded");
    // the launcher's own clock: it killed the program at its limit, not when the caller came back
    expect(result.wallTimeMs).toBeLessThan(3000 * TIME_SCALE);
    expect(result.stdout.length).toBeGreaterThan(0);
  });

  it("enforces the output limit and reports the accounting", async () => {
    const box = await container();
    const flood = box.start({ argv: ["yes"], env, limits: { ...limits, outputKb: 64 } });
    const flooded = await flood.result;
    expect(flooded).toMatchObject({ status: "output_limit_exceeded", stdoutTruncated: true });
    expect(flooded.stdout.length).toBe(64 * 1024);
    // reads its stdin to EOF, then holds 40 MB and burns CPU
    const code = "import sys\nn = len(sys.stdin.read())\nb = bytearray(40 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1\nx = 0\nfor i in range(3000000): x += i\nprint(n)\n";
    const busy = box.start({ argv: ["python3", "-c", code], env, limits });
    for (let i = 0; i < 10; i += 1) await busy.write(Buffer.alloc(10_000));
    await busy.end();
    const result = await busy.result;
    expect(result).toMatchObject({ status: "ok", exitCode: 0 });
    expect(result.stdout.toString()).toBe("100000\n");
    expect(result.memoryKb).toBeGreaterThan(40 * 1024);
    expect(result.cpuTimeMs).toBeGreaterThan(50);
  });

  it("skips stdin frames that arrive after the execution ended, payload and all, and serves the next exec", async () => {
    const box = await container();
    // the payload looks like an exec request: read as one, it would run `echo pwned`
    const lookalike = encodeExecRequest(["--", "echo", "pwned"], Buffer.alloc(0));
    for (let round = 0; round < 5; round += 1) {
      const stream = box.start({ argv: ["true"], env, limits });
      const writes = [stream.write(lookalike), stream.write(Buffer.alloc(900 * 1024, 0x64)), stream.write(lookalike), stream.end()];
      expect(await stream.result).toMatchObject({ status: "ok", exitCode: 0 });
      await Promise.all(writes);
      const next = await box.exec({ argv: ["echo", "next"], env, limits });
      expect(next).toMatchObject({ status: "ok", exitCode: 0 });
      expect(next.stdout.toString()).toBe("next\n");
    }
  });

  it("refuses stdin bytes in a streamed request's own frame (they come as stdin frames)", async () => {
    const box = await container();
    // through the client, request.stdin becomes the first stdin frame
    const stream = box.start({ argv: ["cat"], env, limits, stdin: "in the first frame\n" });
    await stream.end();
    expect((await stream.result).stdout.toString()).toBe("in the first frame\n");
  });

  it("signals its program (ExecStream.signal): a handler goes on, and a signal that kills it ends it as runtime_error with that signal", async () => {
    const box = await container();
    expect((await box.exec({ argv: ["true"], env, limits })).status).toBe("ok"); // the stream is the container's second request
    let out = "";
    const said = (text: string) => new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (!out.includes(text)) return;
        clearInterval(check);
        resolve();
      }, 5);
    });
    const program = "import os, signal, time\nsignal.signal(signal.SIGINT, lambda *_: os.write(1, b'INT\\n'))\nprint('ready', flush=True)\nwhile True: time.sleep(1)";
    const stream = box.start({ argv: ["python3", "-c", program], env, limits, onStdout: (chunk) => (out += chunk.toString()) });
    await said("ready");
    stream.signal("SIGINT");
    await said("INT");
    stream.signal("SIGTERM");
    const result = await stream.result;
    expect(result).toMatchObject({ status: "runtime_error", exitCode: null, signal: "SIGTERM", cancelled: false });
    expect(result.stdout.toString()).toBe("ready\nINT\n");
    expect(() => stream.signal("SIGSTOP")).toThrow(RangeError);
    expect(() => stream.signal("toString")).toThrow(RangeError);
    stream.signal("SIGKILL"); // after the end: ignored
    expect((await box.exec({ argv: ["echo", "next"], env, limits })).stdout.toString()).toBe("next\n");
  });

  it("signals every process of the execution, also a program that does not read its waiting stdin, and one signalled before it started", async () => {
    const box = await container();
    const early = box.start({ argv: ["sh", "-c", "sleep 1000 & wait"], env, limits });
    early.signal("SIGINT"); // before its request is even written: held until the program runs
    expect(await early.result).toMatchObject({ status: "runtime_error", signal: "SIGINT" });
    const deaf = box.start({ argv: ["sleep", "1000"], env, limits });
    const writes = [deaf.write(Buffer.alloc(512 * 1024)), deaf.write(Buffer.alloc(256 * 1024))];
    deaf.signal("SIGQUIT");
    expect(await deaf.result).toMatchObject({ status: "runtime_error", signal: "SIGQUIT" });
    await Promise.all(writes);
  });
});
