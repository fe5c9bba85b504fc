import { describe, expect, it } from "vitest";
import { MemoryEventLogs } from "./memory-events.js";

const event = (text: string) => ({ type: "output" as const, json: JSON.stringify({ data: text }) });

describe("MemoryEventLogs", () => {
  it("keeps finished logs within maxBytes, the oldest going first, never a running one; a watcher of an evicted log is woken", async () => {
    const logs = new MemoryEventLogs({ ttlMs: 60_000, max: 100, maxBytes: 250 });
    logs.append("running", [event("r".repeat(500))]);
    logs.append("old", [event("a".repeat(100))], true);
    let woken = 0;
    const unwatch = await logs.watch("old", () => woken++);
    logs.append("new", [event("b".repeat(100))], true);
    expect((await logs.read("old", 0, 1000)).missing).toBe(false);
    logs.append("newer", [event("c".repeat(100))], true);
    expect((await logs.read("old", 0, 1000)).missing).toBe(true);
    expect(woken).toBeGreaterThan(0);
    expect((await logs.read("new", 0, 1000)).events).toHaveLength(1);
    expect((await logs.read("running", 0, 1000)).events).toHaveLength(1);
    unwatch();
    expect(logs.watchers).toBe(0);
  });

  it("numbers events from 1, reads after a number within a byte budget, and refuses events after the final status", async () => {
    const logs = new MemoryEventLogs({ ttlMs: 60_000, max: 100, maxBytes: 10_000 });
    logs.append("run", [event("one"), event("two"), event("three")]);
    logs.append("run", [{ type: "status", json: '{"status":"completed"}' }], true);
    logs.append("run", [event("late")]);
    const all = await logs.read("run", 0, 10_000);
    expect(all.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect((await logs.read("run", 2, 10_000)).events.map((e) => JSON.parse(e.json).data ?? JSON.parse(e.json).status)).toEqual(["three", "completed"]);
    // a budget smaller than one event still gives that one event
    expect((await logs.read("run", 0, 1)).events).toHaveLength(1);
    expect((await logs.read("run", 4, 10_000)).events).toEqual([]);
  });
});
