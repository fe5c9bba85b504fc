// Functions: a prepared container is handed out as warm only once its
// handler's import has ended (docs/functions.md, *The warm path*), and an
// invocation is answered once its response is complete, not at its program's
// end (*Answering at the response*). Real kernel, real sandboxes. The handlers below report, on the host's monotonic
// clock (the containers have no time namespace), when their import ended: an
// invocation is warm exactly when that was before its event was sent.
import { describe, expect, it } from "vitest";
import type { FunctionVersion, InvocationOutcome } from "../../src/run/functions.js";
import { type SandboxFunctionRuntime } from "../../src/worker/functions/runtime.js";
import { eventually } from "../helpers/eventually.js";
import { processesWith } from "../helpers/processes.js";
import { TIME_SCALE } from "../helpers/sandbox.js";
import { deploy, json, runtimes, source, version } from "./fixtures.js";

// the prepared containers' path: a Python handler's zygotes have their own suite (zygote.test.ts)
const runtime = runtimes(false);

/** Handlers whose import takes 300 ms and that answer with the monotonic time (ns) their import ended. */
const SLOW_IMPORT: Record<string, Record<string, string>> = {
  python: { "main.py": "import time\ntime.sleep(0.3)\nimported_ns = time.monotonic_ns()\n\ndef handler(event, context):\n    return str(imported_ns)\n" },
  javascript: {
    "main.mjs": "await new Promise((resolve) => setTimeout(resolve, 2500));\nconst importedNs = process.hrtime.bigint();\nexport function handler() {\n  return String(importedNs);\n}\n",
  },
};

let ids = 0;
/** Invokes FN and says whether its import had ended before the event was sent. */
async function call(rt: SandboxFunctionRuntime, fn: FunctionVersion): Promise<{ outcome: InvocationOutcome; importedBefore: boolean }> {
  const sentNs = process.hrtime.bigint(); // CLOCK_MONOTONIC, as Python's time.monotonic_ns()
  const outcome = await rt.invoke(fn, json(null), { id: `ready-${++ids}`, logs: true });
  expect(outcome, outcome.logs?.stderr).toMatchObject({ status: "ok" });
  return { outcome, importedBefore: BigInt(JSON.parse(outcome.body.toString()) as string) < sentNs };
}

describe("a prepared container is ready once its import has ended", () => {
  for (const language of ["python", "javascript"]) {
    it(`${language}: one still importing is not handed out as warm; a cold invocation takes it and the pool grows`, async () => {
      const rt = await runtime();
      const src = source(language, SLOW_IMPORT[language]!);
      const fn = await deploy(rt, src);
      const first = await call(rt, fn);
      expect(first.outcome.cold).toBe(true);
      // the refill behind it has started its program: its import (300 ms) is under way
      await eventually("the refill's program to start", () => (processesWith(src.name).length > 0 ? true : undefined));
      expect(rt.warm).toBe(0);
      const second = await call(rt, fn);
      // it paid (part of) the import: cold, however far along the container was
      expect(second).toMatchObject({ importedBefore: false, outcome: { cold: true } });
      // two misses: the pool's target is 2, and both become ready once imported
      await eventually("two ready containers", () => (rt.warm >= 2 ? true : undefined));
      const third = await call(rt, fn);
      expect(third).toMatchObject({ importedBefore: true, outcome: { cold: false } });
    });
  }

  it("an import that fails in a prepared container drops it and stops the version's refills until it is invoked again", async () => {
    const errors: unknown[] = [];
    const rt = await runtime({ idleMs: 4000, onError: (error) => errors.push(error) }); // the sweep (which refills) comes every 2 s
    // imports in the deploy's trial (mode check), fails once prepared (mode serve)
    const src = source("python", { "main.py": "import sys\nif sys.argv[1] == 'serve':\n    raise RuntimeError('fails late')\n\ndef handler(event, context):\n    return 1\n" });
    const fn = await deploy(rt, src);
    const outcome = await rt.invoke(fn, json(null), { id: "ready-fails", logs: false });
    expect(outcome).toMatchObject({ status: "function_error", cold: true, error: { message: expect.stringContaining("fails late") } });
    await eventually("the prepared container's failure to be reported", () => (errors.length > 0 ? true : undefined));
    expect(String(errors[0])).toContain("fails late");
    await eventually("nothing prepared or preparing", () => (rt.warm === 0 && rt.preparing === 0 ? true : undefined));
    // no refill after it: the sweeps that come meanwhile leave the version alone
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(errors).toHaveLength(1);
    expect(rt.preparing + rt.warm).toBe(0);
  });
});

/** Handlers that answer, then never end: each replaces the exit its shim calls after the response. */
const NEVER_EXITS: Record<string, Record<string, string>> = {
  python: { "main.py": "import os, threading\n\ndef handler(event, context):\n    os._exit = lambda code: threading.Event().wait()\n    return bytearray(256 * 1024)\n" },
  javascript: { "main.mjs": "export function handler() {\n  process.exit = () => setInterval(() => {}, 1 << 30);\n  return Buffer.alloc(256 * 1024);\n}\n" },
};

describe("an invocation is answered once its response is complete", () => {
  for (const language of ["python", "javascript"]) {
    it(`${language}: a program that answers and never ends is ok with its response and its accounting, not a timeout; with the logs, its end is waited for`, async () => {
      const rt = await runtime({ maxWarmPerVersion: 0 }); // cold or warm, the same path
      const fn = await deploy(rt, source(language, NEVER_EXITS[language]!, { limits: { wallTimeMs: 3000 * TIME_SCALE } }));
      const outcome = await rt.invoke(fn, json(null), { id: `early-${language}`, logs: false });
      expect(outcome, JSON.stringify(outcome.error)).toMatchObject({ status: "ok", contentType: "application/octet-stream" });
      expect(outcome.body.equals(Buffer.alloc(256 * 1024))).toBe(true);
      // a live reading of its cgroup: the runtime's start, the import and the 256 KiB it made
      expect(outcome.cpuTimeMs).toBeGreaterThan(0);
      expect(outcome.memoryKb).toBeGreaterThan(256);
      expect(outcome.durationMs).toBeLessThan(fn.limits.wallTimeMs);
      // the logs may still be on their way at the response: their outcome waits for the program's end, which never comes
      const logged = await rt.invoke(fn, json(null), { id: `early-${language}-logs`, logs: true });
      expect(logged.status).toBe("function_timeout");
    });
  }
});
