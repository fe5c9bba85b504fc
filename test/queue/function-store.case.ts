import { describe, expect, it } from "vitest";
import type { FunctionStore } from "../../src/queue/function-store.js";
import type { FunctionSource } from "../../src/run/functions.js";
import { DEFAULT_COMPILE_LIMITS, DEFAULT_RUN_LIMITS } from "../../src/run/limits.js";

export const source = (name: string, code: string, env: Record<string, string> = {}): FunctionSource => ({
  name,
  language: "python",
  languageVersion: "3",
  image: "host",
  mode: "handler",
  handler: "main.handler",
  files: [{ path: "main.py", content: Buffer.from(code) }],
  env,
  limits: DEFAULT_RUN_LIMITS,
  compileLimits: DEFAULT_COMPILE_LIMITS,
});

/** One contract for both FunctionStores (memory, Redis). `open` gives a fresh, empty store. */
export function functionStoreContract(label: string, open: () => Promise<{ store: FunctionStore; bytes: () => Promise<number>; close(): Promise<void> }>): void {
  describe(`FunctionStore (${label})`, () => {
    it("numbers versions 1, 2, … per scope and name, resolves them by number, label or latest, and keeps env values out of nothing but envValues", async () => {
      const { store, close } = await open();
      try {
        const one = await store.commit("", source("f", "a = 1"), null, undefined);
        const two = await store.commit("", source("f", "a = 2", { SECRET: "s3cr3t" }), [{ path: "build", content: Buffer.from("x") }], "blue");
        expect([one.number, one.version, two.number, two.version]).toEqual([1, "1", 2, "blue"]);
        expect(two).toMatchObject({ env: ["SECRET"], envValues: { SECRET: "s3cr3t" }, sizes: { files: 1, buildBytes: 1 } });
        expect((await store.resolve("", "f"))?.number).toBe(2);
        expect((await store.resolve("", "f", "1"))?.digest).toBe(one.digest);
        expect((await store.resolve("", "f", "blue"))?.number).toBe(2);
        expect(await store.resolve("", "f", "green")).toBeUndefined();
        expect(await store.resolve("other-scope", "f")).toBeUndefined();
        expect((await store.versions("", "f")).map((v) => v.version)).toEqual(["1", "blue"]);
        expect((await store.code(two.digest))?.build?.[0]?.content.toString()).toBe("x");
        await expect(store.commit("", source("f", "a = 3"), null, "blue")).rejects.toMatchObject({ code: "version_exists" });
        expect(await store.list("")).toMatchObject([{ name: "f", versions: 2, latest: { version: "blue" } }]);
      } finally {
        await close();
      }
    });

    it("lists a scope's functions by name in pages (after a cursor, at most a limit), each with its version count and latest version", async () => {
      const { store, close } = await open();
      try {
        for (const name of ["c", "a", "d", "b"]) await store.commit("s", source(name, `x = '${name}'`), null, undefined);
        await store.commit("s", source("b", "x = 2"), null, "two");
        await store.commit("other", source("a0", "y = 1"), null, undefined);
        const first = await store.list("s", { limit: 2 });
        expect(first.map((fn) => [fn.name, fn.versions, fn.latest.version])).toEqual([
          ["a", 1, "1"],
          ["b", 2, "two"],
        ]);
        expect(first[1]!.latest).toMatchObject({ number: 2, envValues: {}, name: "b" });
        expect((await store.list("s", { after: "b", limit: 2 })).map((fn) => fn.name)).toEqual(["c", "d"]);
        expect(await store.list("s", { after: "d", limit: 2 })).toEqual([]);
        expect((await store.list("s")).map((fn) => fn.name)).toEqual(["a", "b", "c", "d"]);
        expect((await store.list("s", { after: "a-" })).map((fn) => fn.name)).toEqual(["b", "c", "d"]);
      } finally {
        await close();
      }
    });

    it("commits a deploy job once: run again (a stall), it gets the version its first run stored, with its label, counted once", async () => {
      const { store, bytes, close } = await open();
      try {
        const first = await store.commit("", source("d", "a = 1"), null, "green", "job-1");
        const used = await bytes();
        const again = await store.commit("", source("d", "a = 1"), null, "green", "job-1");
        expect(again).toMatchObject({ number: first.number, version: "green", digest: first.digest, createdAt: first.createdAt });
        expect((await store.versions("", "d")).length).toBe(1);
        expect(await bytes()).toBe(used);
        // Another deploy job is another version; so is the same job's id for another function.
        expect((await store.commit("", source("d", "a = 2"), null, undefined, "job-2")).number).toBe(2);
        expect((await store.commit("", source("e", "a = 2"), null, undefined, "job-1")).number).toBe(1);
        expect((await store.versions("", "e")).length).toBe(1);
      } finally {
        await close();
      }
    });

    it("stores a digest's code once, drops it with its last version, never reuses a number after a delete, and announces the delete", async () => {
      const { store, bytes, close } = await open();
      try {
        const removed: string[] = [];
        const stop = await store.onRemoved((scope, name) => removed.push(`${scope}/${name}`));
        const a = await store.commit("k1", source("g", "same code"), null, undefined);
        const b = await store.commit("k2", source("h", "same code"), null, undefined);
        expect(a.digest).toBe(b.digest);
        expect(await bytes()).toBeGreaterThan(0);
        expect(await store.remove("k1", "g")).toBe(true);
        expect(await store.code(a.digest)).toBeDefined();
        expect(await store.remove("k2", "h")).toBe(true);
        expect(await store.code(a.digest)).toBeUndefined();
        expect(await bytes()).toBe(0);
        expect(await store.remove("k2", "h")).toBe(false);
        expect((await store.commit("k1", source("g", "new"), null, undefined)).number).toBe(2);
        for (let i = 0; i < 100 && removed.length < 2; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
        expect(removed).toEqual(["k1/g", "k2/h"]);
        stop();
      } finally {
        await close();
      }
    });
  });
}
