import { afterEach, describe, expect, it, vi } from "vitest";
import type { SerializedResult } from "../run/result-json.js";
import type { RunStatus } from "../run/result.js";
import { ResultStore } from "./result-store.js";

const stored = (id: string, status: RunStatus, bytes: number): SerializedResult => ({ id, status, json: Buffer.alloc(bytes, 0x20) });
const ids = (store: ResultStore, all: string[]) => all.filter((id) => store.get(id) !== undefined);

afterEach(() => {
  vi.useRealTimers();
});

describe("ResultStore", () => {
  it("keeps finished results within maxBytes, oldest first", () => {
    const store = new ResultStore({ ttlMs: 60_000, max: 100, maxBytes: 1_000 });
    for (const id of ["a", "b", "c"]) store.set(stored(id, "completed", 400));
    expect(ids(store, ["a", "b", "c"])).toEqual(["b", "c"]);
    expect(store.bytes).toBe(800);
    store.set(stored("d", "failed", 300));
    expect(ids(store, ["b", "c", "d"])).toEqual(["c", "d"]);
    expect(store.bytes).toBe(700);
  });

  it("never evicts the result just stored, even when it alone is over maxBytes, nor a queued or running one for bytes", () => {
    const store = new ResultStore({ ttlMs: 60_000, max: 100, maxBytes: 1_000 });
    store.set(stored("queued", "queued", 200));
    store.set(stored("running", "running", 200));
    store.set(stored("old", "completed", 500));
    store.set(stored("huge", "completed", 5_000));
    expect(ids(store, ["queued", "running", "old", "huge"])).toEqual(["queued", "running", "huge"]);
    expect(store.bytes).toBe(5_000);
  });

  it("counts a result once when it is written again (queued, running, then final)", () => {
    const store = new ResultStore({ ttlMs: 60_000, max: 100, maxBytes: 1_000 });
    store.set(stored("a", "queued", 100));
    store.set(stored("a", "running", 100));
    store.set(stored("a", "completed", 600));
    store.set(stored("b", "completed", 300));
    expect(store.size).toBe(2);
    expect(store.bytes).toBe(900);
    expect(store.get("a")?.json.length).toBe(600);
  });

  it("past `max` results, evicts finished ones first, then the oldest queued or running", () => {
    const store = new ResultStore({ ttlMs: 60_000, max: 3, maxBytes: 1 << 20 });
    store.set(stored("q1", "queued", 10));
    store.set(stored("f1", "completed", 10));
    store.set(stored("q2", "running", 10));
    store.set(stored("q3", "queued", 10));
    expect(ids(store, ["q1", "f1", "q2", "q3"])).toEqual(["q1", "q2", "q3"]);
    store.set(stored("q4", "queued", 10));
    expect(ids(store, ["q1", "q2", "q3", "q4"])).toEqual(["q2", "q3", "q4"]);
  });

  it("forgets results ttlMs after their last write", () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const store = new ResultStore({ ttlMs: 1_000, max: 100, maxBytes: 1 << 20 });
    store.set(stored("a", "completed", 10));
    vi.advanceTimersByTime(600);
    store.set(stored("b", "completed", 10));
    vi.advanceTimersByTime(600);
    expect(store.get("a")).toBeUndefined();
    expect(store.get("b")?.id).toBe("b");
    store.set(stored("c", "completed", 10));
    expect(store.bytes).toBe(20);
  });
});
