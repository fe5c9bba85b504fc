/* Streamed stdin (docs/launcher.md, "Streamed stdin"): a served request with
 * --stdin-stream, its stdin written as frames while the program runs. Spoken
 * here byte for byte, without the TypeScript client (test/sandbox/stream.test.ts
 * drives it through Container.start). */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { Readable } from "node:stream";
import { encodeExecRequest, encodeSignal, encodeStdinEnd, encodeStdinHeader, relaySignal } from "../../src/sandbox/container/served-frames.js";
import { TIME_SCALE } from "../helpers/sandbox.js";
import { cgroupsOf, containerArgs, envArgs, launch, served } from "./fixture.js";

const limited = ["--memory-mb", "128", "--pids", "32", "--wall-ms", String(20_000 * TIME_SCALE), ...envArgs];
const stdinFrame = (data: string | Buffer): Buffer => {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  return Buffer.concat([encodeStdinHeader(bytes.length), bytes]);
};

/** Resolves once the raw answer frames on OUT contain TEXT (a program's stdout comes through them unchanged). */
function seen(out: Readable, text: string): Promise<void> {
  return new Promise((resolve) => {
    let all = "";
    const onData = (chunk: Buffer) => {
      all += chunk.toString("latin1");
      if (!all.includes(text)) return;
      out.off("data", onData);
      resolve();
    };
    out.on("data", onData);
  });
}

/** A Python program that says `ready` once its SIGINT handler is in place; the handler writes `INT` (os.write: a print could be one the handler interrupted).
 * Python runs a handler between bytecodes: a signal that comes just before it
 * enters a blocking call (read, sleep) waits until that call returns. So the
 * programs below never block for long: they wait in select and sleep with a
 * short timeout (a handler that waited for the next stdin would hang a test
 * that waits for the handler before it sends more). */
const trapsInt = (rest: string) => `import os, select, signal, sys, time\nsignal.signal(signal.SIGINT, lambda *_: os.write(1, b'INT\\n'))\nprint('ready', flush=True)\n${rest}`;
/** Prints `read LINE` for each line of its stdin until its end, waiting for input 50 ms at a time (see trapsInt). */
const readsLines = [
  "pending = b''",
  "while True:",
  "    if not select.select([0], [], [], 0.05)[0]: continue",
  "    chunk = os.read(0, 4096)",
  "    if not chunk: break",
  "    *lines, pending = (pending + chunk).split(b'\\n')",
  "    for line in lines: print('read', line.decode(), flush=True)",
  "",
].join("\n");
const SIGINT = 2;
const SIGKILL = 9;
const SIGTERM = 15;

describe("signals for a streamed execution", () => {
  it("sends a signal frame's signal to the program in order with its stdin: a program that handles it goes on", async () => {
    const box = await served();
    const answer = box.request(["--stdin-stream", ...limited, "--", "python3", "-c", trapsInt(readsLines)]);
    await seen(box.child.stdout!, "ready");
    const interrupted = seen(box.child.stdout!, "INT");
    box.child.stdin!.write(Buffer.concat([stdinFrame("a\n"), encodeSignal(SIGINT)]));
    await interrupted;
    box.child.stdin!.write(Buffer.concat([stdinFrame("b\n"), encodeStdinEnd()]));
    const { stdout, status } = await answer;
    expect(stdout.split("\n").filter((line) => line !== "").sort()).toEqual(["INT", "read a", "read b", "ready"]);
    expect(status).toMatchObject({ status: "ok", exitCode: 0 });
  });

  it("ends a program the signal kills as runtime_error with that signal (neither a limit nor a cancel)", async () => {
    const box = await served();
    const answer = box.request(["--stdin-stream", ...limited, "--", "sh", "-c", "echo ready; exec sleep 1000"]);
    await seen(box.child.stdout!, "ready");
    box.child.stdin!.write(encodeSignal(SIGINT));
    expect((await answer).status).toMatchObject({ status: "runtime_error", exitCode: null, signal: "SIGINT" });
    expect((await box.request([...limited, "--", "echo", "next"])).stdout).toBe("next\n");
  });

  it("signals every process of the execution's cgroup, not the first alone", async () => {
    const box = await served();
    // the shell waits for its child; both die of SIGTERM (a shell that waits reports its child's end as 128+15)
    const answer = box.request(["--stdin-stream", ...limited, "--", "sh", "-c", "sleep 1000 & echo ready; wait; echo waited $?"]);
    await seen(box.child.stdout!, "ready");
    box.child.stdin!.write(encodeSignal(SIGTERM));
    const { stdout, status } = await answer;
    expect(stdout).toBe("ready\n");
    expect(status).toMatchObject({ status: "runtime_error", signal: "SIGTERM" });
  });

  it("relays a real-time signal to the program at once while its stdin waits behind a program that does not read", async () => {
    const box = await served();
    const answer = box.request(["--stdin-stream", ...limited, "--", "python3", "-c", trapsInt("signal.signal(signal.SIGINT, lambda *_: sys.exit(3))\nwhile True: time.sleep(0.05)\n")]);
    await seen(box.child.stdout!, "ready");
    // more than the pipes and the launcher's buffer hold: the launcher stops reading its stdin, and a signal frame would wait behind it
    const chunk = stdinFrame(Buffer.alloc(64 * 1024));
    for (let i = 0; i < 8; i += 1) box.child.stdin!.write(chunk);
    box.child.stdin!.write(encodeSignal(SIGKILL)); // never reached: the program ends by the relayed SIGINT first
    await sleep(100);
    process.kill(box.child.pid!, relaySignal(0, SIGINT));
    expect((await answer).status).toMatchObject({ status: "runtime_error", exitCode: 3, signal: null });
  });

  it("keeps a relayed signal sent before the launcher read its request, and drops one meant for the execution before", async () => {
    const box = await served();
    expect((await box.request([...limited, "--", "true"])).status).toMatchObject({ status: "ok" }); // request 0
    // request 1: the signals are pending before the launcher reads its header (its SIGTERM waits until the program runs)
    const answer = box.request(["--stdin-stream", ...limited, "--wall-ms", String(600_000), "--", "sleep", "1000"]);
    process.kill(box.child.pid!, relaySignal(0, SIGKILL)); // request 0's parity: stale, dropped
    process.kill(box.child.pid!, relaySignal(1, SIGTERM));
    expect((await answer).status).toMatchObject({ status: "runtime_error", signal: "SIGTERM" });
  });
});

describe("streamed stdin", () => {
  it("feeds the program's stdin from frames split at any byte, and closes it at the end frame", async () => {
    const box = await served();
    const answer = box.request(["--stdin-stream", ...limited, "--", "sh", "-c", "cat; echo eof"]);
    const bytes = Buffer.concat([stdinFrame("hello "), stdinFrame(""), stdinFrame("world\n"), encodeStdinEnd()]);
    for (const byte of bytes) {
      box.child.stdin!.write(Buffer.from([byte]));
      await sleep(1);
    }
    expect(await answer).toMatchObject({ stdout: "hello world\neof\n", status: { status: "ok", exitCode: 0 } });
  });

  it("skips frames that come after the execution ended, also one it ended in the middle of, and serves the next request", async () => {
    const box = await served();
    // the payload looks like an exec request: read as one, it would run `echo pwned`
    const lookalike = encodeExecRequest([...limited, "--", "echo", "pwned"], Buffer.alloc(0));
    const payload = Buffer.concat([lookalike, Buffer.alloc(200_000, 0x78), lookalike]);
    const frame = stdinFrame(payload);
    const answer = box.request(["--stdin-stream", ...limited, "--", "true"]);
    box.child.stdin!.write(frame.subarray(0, 1000)); // the header and the start of the payload
    expect((await answer).status).toMatchObject({ status: "ok", exitCode: 0 });
    box.child.stdin!.write(frame.subarray(1000));
    // a frame whose header comes in two pieces, after the end
    const late = Buffer.concat([stdinFrame(lookalike), encodeStdinEnd()]);
    box.child.stdin!.write(late.subarray(0, 4));
    await sleep(10);
    box.child.stdin!.write(late.subarray(4));
    const next = await box.request([...limited, "--", "echo", "next"]);
    expect(next).toMatchObject({ stdout: "next\n", status: { status: "ok", exitCode: 0 } });
  });

  it("refuses stdin bytes in a streamed request, and --stdin-stream on a one-shot command line", async () => {
    const box = await served();
    const refused = await box.request(["--stdin-stream", ...limited, "--", "cat"], "inline");
    expect(refused.status).toMatchObject({ status: "internal_error", step: "options", message: "--stdin-stream: the program's stdin comes in stdin frames, not in the request" });
    expect((await box.request([...limited, "--", "echo", "ok"])).stdout).toBe("ok\n");
    const oneShot = launch([...containerArgs, "--stdin-stream"], ["true"]);
    expect(oneShot.status).toMatchObject({ status: "internal_error", step: "options" });
  });

  it("ends the execution, and the container, when the caller hangs up while its stdin waits for a program that does not read", async () => {
    const box = await served();
    const answer = box.request(["--stdin-stream", ...limited, "--wall-ms", String(600_000), "--", "sleep", "1000"]);
    // more than the pipes and the launcher's buffer hold: the launcher stops reading its stdin
    const chunk = stdinFrame(Buffer.alloc(64 * 1024));
    for (let i = 0; i < 8; i += 1) box.child.stdin!.write(chunk);
    await sleep(300);
    box.child.stdin!.on("error", () => {});
    box.child.stdin!.destroy(); // closed now, with writes still buffered (end() would wait for them)
    expect((await answer).status).toMatchObject({ status: "internal_error", step: "cancelled" });
    expect(await box.exited()).toBe(0);
    expect(cgroupsOf(box.child.pid!)).toEqual([]);
  });
});
