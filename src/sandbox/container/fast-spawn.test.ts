import type { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { spawnLauncher, type LauncherProcess } from "./fast-spawn.js";

function collect(stream: Readable | null | undefined): () => string {
  let text = "";
  stream?.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
}

const closed = (child: LauncherProcess) => new Promise<[number | null, string | null]>((resolve) => child.once("close", (code, signal) => resolve([code, signal])));

describe("spawnLauncher", () => {
  it("wires stdin, stdout and stderr to pipes, no other fd, and reports the exit code", async () => {
    const child = spawnLauncher("/bin/sh", ["-c", "read x; echo out:$x; echo err >&2; { echo fd3 >&3; } 2>/dev/null || echo 'no fd 3'; exit 7"]);
    const out = collect(child.stdout);
    const err = collect(child.stderr);
    const done = closed(child);
    child.stdin?.end("hi\n");
    expect(await done).toEqual([7, null]);
    expect([out(), err()]).toEqual(["out:hi\nno fd 3\n", "err\n"]);
    expect(child.stdio).toHaveLength(3);
    expect(child.exitCode).toBe(7);
    expect(child.pid).toBeGreaterThan(0);
  });

  it("reports a killing signal by name, and kill() of an ended child is a no-op", async () => {
    const child = spawnLauncher("/bin/sleep", ["30"]);
    const done = closed(child);
    expect(child.kill("SIGTERM")).toBe(true);
    expect(await done).toEqual([null, "SIGTERM"]);
    expect(child.kill("SIGKILL")).toBe(false);
  });

  it("a program that does not exist: an 'error' event (ENOENT), then 'close'", async () => {
    const child = spawnLauncher("/nonexistent/warren-launch", []);
    const error = new Promise<NodeJS.ErrnoException>((resolve) => child.once("error", resolve));
    const done = closed(child);
    expect((await error).code).toBe("ENOENT");
    await done;
    expect(child.exitCode === null && child.signalCode === null).toBe(false);
  });
});
