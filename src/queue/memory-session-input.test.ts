import { describe, expect, it } from "vitest";
import { MemorySessionInputs } from "./memory-session-input.js";
import { InvalidRequestError } from "../errors.js";
import { SIGNALS_WAITING_MAX, STDIN_WINDOW_BYTES, stdinCharge } from "./session-input.js";

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(() => (done = true));
  // a few turns of the event loop: whatever is ready settles
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe("MemorySessionInputs", () => {
  it("passes chunks in order, then end of input", async () => {
    const inputs = new MemorySessionInputs();
    const writer = inputs.writer("a");
    const reader = inputs.reader("a");
    await writer.write(Buffer.from("one "));
    await writer.write(Buffer.from("two"));
    await writer.end();
    expect((await reader.next())?.toString()).toBe("one ");
    expect((await reader.next())?.toString()).toBe("two");
    expect(await reader.next()).toBeNull();
  });

  it("holds a write once the window is full, until the program has taken enough", async () => {
    const inputs = new MemorySessionInputs();
    const writer = inputs.writer("a");
    const reader = inputs.reader("a");
    const half = Buffer.alloc(STDIN_WINDOW_BYTES / 2);
    expect(await settled(writer.write(half))).toBe(true);
    const second = writer.write(half);
    expect(await settled(second)).toBe(false);
    const chunk = await reader.next();
    expect(await settled(second)).toBe(false); // read, not yet taken by the program
    reader.taken(chunk?.length ?? 0);
    expect(await settled(second)).toBe(true);
  });

  it("counts each chunk at least at its charge: one-byte messages cannot fill the window by the hundred thousand", async () => {
    const inputs = new MemorySessionInputs();
    const writer = inputs.writer("a");
    const reader = inputs.reader("a");
    const fit = STDIN_WINDOW_BYTES / stdinCharge(1);
    expect(fit).toBeLessThanOrEqual(1024);
    for (let i = 0; i < fit - 1; i++) expect(await settled(writer.write(Buffer.from("x")))).toBe(true);
    const full = writer.write(Buffer.from("x"));
    expect(await settled(full)).toBe(false);
    reader.taken((await reader.next())?.length ?? 0);
    expect(await settled(full)).toBe(true);
  });

  it("lets waiting writes go when the reader closes, and drops what comes after; the writer's close frees the session", async () => {
    const inputs = new MemorySessionInputs();
    const writer = inputs.writer("a");
    const reader = inputs.reader("a");
    const waiting = writer.write(Buffer.alloc(STDIN_WINDOW_BYTES));
    expect(await settled(waiting)).toBe(false);
    const next = reader.next();
    await reader.close();
    expect(await settled(waiting)).toBe(true);
    expect(await settled(writer.write(Buffer.alloc(STDIN_WINDOW_BYTES)))).toBe(true);
    expect(inputs.open).toBe(1);
    await writer.close();
    expect(inputs.open).toBe(0);
    expect((await next)?.length).toBe(STDIN_WINDOW_BYTES);
  });

  it("gives a reader whose session is gone end of input at once", async () => {
    const inputs = new MemorySessionInputs();
    await inputs.writer("a").close();
    expect(await inputs.reader("a").next()).toBeNull();
  });

  it("passes signals on at once, ahead of the stdin that waits; holds those sent before the reader listens, up to a bound", async () => {
    const inputs = new MemorySessionInputs();
    const writer = inputs.writer("a");
    const reader = inputs.reader("a");
    await writer.write(Buffer.alloc(STDIN_WINDOW_BYTES / 2));
    const full = writer.write(Buffer.alloc(STDIN_WINDOW_BYTES / 2)); // the window is full: this write waits
    await writer.signal("SIGINT");
    await writer.signal("SIGTERM");
    for (let i = 2; i < SIGNALS_WAITING_MAX; i++) await writer.signal("SIGUSR1");
    await expect(writer.signal("SIGUSR2")).rejects.toThrow(InvalidRequestError);
    const seen: string[] = [];
    reader.onSignal((name) => seen.push(name));
    expect(seen.slice(0, 2)).toEqual(["SIGINT", "SIGTERM"]);
    expect(seen).toHaveLength(SIGNALS_WAITING_MAX);
    await writer.signal("SIGQUIT"); // listened for now: at once, though the window is still full
    expect(seen.at(-1)).toBe("SIGQUIT");
    expect(await settled(full)).toBe(false);
    await reader.close();
    await writer.signal("SIGKILL"); // the program ended: dropped
    expect(seen.at(-1)).toBe("SIGQUIT");
    await writer.close();
  });
});
