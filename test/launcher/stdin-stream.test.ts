/* Streamed stdin (docs/launcher.md, "Streamed stdin"): a served request with
 * --stdin-stream, its stdin written as frames while the program runs. Spoken
 * here byte for byte, without the TypeScript client (test/sandbox/stream.test.ts
 * drives it through Container.start). */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { encodeExecRequest, encodeStdinEnd, encodeStdinHeader } from "../../src/sandbox/container/served-frames.js";
import { TIME_SCALE } from "../helpers/sandbox.js";
import { cgroupsOf, containerArgs, envArgs, launch, served } from "./fixture.js";

const limited = ["--memory-mb", "128", "--pids", "32", "--wall-ms", String(20_000 * TIME_SCALE), ...envArgs];
const stdinFrame = (data: string | Buffer): Buffer => {
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  return Buffer.concat([encodeStdinHeader(bytes.length), bytes]);
};

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
