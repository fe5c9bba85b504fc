// Functions: the warm path, the shims' contract, errors and state isolation
// between invocations (src/worker/functions). Real kernel, real sandboxes.
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { FunctionVersion } from "../../src/run/functions.js";
import { PreparedBudget } from "../../src/sandbox/container/prepared-budget.js";
import { type SandboxFunctionRuntime } from "../../src/worker/functions/runtime.js";
import { eventually } from "../helpers/eventually.js";
import { processesWith } from "../helpers/processes.js";
import { sandbox, TIME_SCALE } from "../helpers/sandbox.js";
import { bytes, deploy, json, runtimes, source, version } from "./fixtures.js";

// the prepared containers' path: a Python handler's zygotes have their own suite (zygote.test.ts)
const runtime = runtimes(false);

/** Waits (bounded) until RT has N prepared containers. */
const warmed = (rt: SandboxFunctionRuntime, n = 1) => eventually(`${n} warm container(s)`, () => (rt.warm >= n ? rt.warm : undefined));

let ids = 0;
const call = (rt: SandboxFunctionRuntime, fn: FunctionVersion, event = json(null), logs = false) => rt.invoke(fn, event, { id: `inv-${++ids}`, logs });

describe("warm path", () => {
  it("prepares a container behind the first (cold) invocation and answers the next from it (cold: false)", async () => {
    const rt = await runtime();
    const fn = await deploy(rt, source("python", { "main.py": "def handler(event, context):\n    return event * 2\n" }));
    const first = await call(rt, fn, json(21));
    expect(first).toMatchObject({ status: "ok", cold: true });
    expect(first.body.toString()).toBe("42");
    await warmed(rt);
    const second = await call(rt, fn, json(4));
    expect(second).toMatchObject({ status: "ok", cold: false });
    expect(second.body.toString()).toBe("8");
  });

  it("prepares the next container only after the invocation is answered: none is being made when invoke() resolves", async () => {
    const rt = await runtime();
    const fn = await deploy(rt, source("javascript", { "main.js": "exports.handler = (event) => event;\n" }));
    for (const cold of [true, false]) {
      const outcome = await call(rt, fn, json(1));
      expect(outcome).toMatchObject({ status: "ok", cold });
      // the answer is stored and sent in this turn of the event loop; its refill would compete with it for the CPU
      expect(rt.preparing).toBe(0);
      await warmed(rt);
    }
  });

  it("counts the timeout from the event's delivery, not from the warm container's start", async () => {
    const rt = await runtime();
    const timeout = 1000 * TIME_SCALE;
    const fn = await deploy(rt, source("python", { "main.py": "def handler(event, context):\n    return context.remaining_time_ms()\n" }, { limits: { wallTimeMs: timeout } }));
    await call(rt, fn);
    await warmed(rt);
    await sleep(timeout * 2); // the prepared container waits for longer than the timeout
    const outcome = await call(rt, fn);
    expect(outcome).toMatchObject({ status: "ok", cold: false });
    expect(Number(outcome.body.toString())).toBeGreaterThan(0);
  });

  it("retire() drains a function's prepared containers: their processes are gone", async () => {
    const rt = await runtime();
    const src = source("python", { "main.py": "def handler(event, context):\n    return 1\n" });
    const fn = await deploy(rt, src);
    await call(rt, fn);
    await warmed(rt);
    expect(processesWith(src.name).length).toBeGreaterThan(0); // the shim waits with the name in its argv
    await rt.retire(src.name);
    expect(rt.warm).toBe(0);
    await eventually("the prepared shims to end", () => (processesWith(src.name).length === 0 ? true : undefined));
  });

  it("shrinks a version's pool to nothing once it is not invoked for idleMs", async () => {
    const rt = await runtime({ idleMs: 300 });
    const fn = await deploy(rt, source("python", { "main.py": "def handler(event, context):\n    return 1\n" }));
    await call(rt, fn);
    await warmed(rt);
    await eventually("the idle pool to shrink", () => (rt.warm === 0 ? true : undefined));
  });

  it("keeps every version's prepared containers within the shared budget", async () => {
    const budget = new PreparedBudget(1);
    const rt = await runtime({ budget, maxWarmPerVersion: 4 });
    const fns = await Promise.all([0, 1].map(() => deploy(rt, source("python", { "main.py": "def handler(event, context):\n    return 1\n" }))));
    for (let i = 0; i < 3; i++) await Promise.all(fns.map((fn) => call(rt, fn)));
    await warmed(rt);
    await sleep(500);
    expect(rt.warm).toBe(1);
    expect(budget.held).toBe(1);
    await rt.close();
    expect(budget.held).toBe(0);
  });
});

describe("the shims' contract", () => {
  it("keeps the response intact when the handler prints to stdout; what it prints is in the logs", async () => {
    const rt = await runtime();
    const fn = await deploy(rt, source("python", { "main.py": 'import os\ndef handler(event, context):\n    print(\'{"ok": true, "forged": 1}\')\n    os.system("echo from a child")\n    return {"answer": 42}\n' }));
    const outcome = await call(rt, fn, json(null), true);
    expect(outcome.status).toBe("ok");
    expect(JSON.parse(outcome.body.toString())).toEqual({ answer: 42 });
    expect(outcome.logs?.stderr).toContain('{"ok": true, "forged": 1}');
    expect(outcome.logs?.stderr).toContain("from a child");
  });

  it("passes a binary event as bytes and answers bytes as application/octet-stream, unchanged", async () => {
    const rt = await runtime();
    const fn = await deploy(rt, source("python", { "main.py": "def handler(event, context):\n    return bytes(reversed(event))\n" }));
    const outcome = await call(rt, fn, bytes(Buffer.from([0, 1, 2, 255, 10])));
    expect(outcome).toMatchObject({ status: "ok", contentType: "application/octet-stream" });
    expect([...outcome.body]).toEqual([10, 255, 2, 1, 0]);
  });

  it("passes a text event as a string", async () => {
    const rt = await runtime();
    const fn = await deploy(rt, source("python", { "main.py": "def handler(event, context):\n    return type(event).__name__ + ':' + event\n" }));
    const outcome = await call(rt, fn, bytes(Buffer.from("héllo"), "text/plain; charset=utf-8"));
    expect(JSON.parse(outcome.body.toString())).toBe("str:héllo");
  });

  it("runs an ES module Node.js handler (async) with the event and context", async () => {
    const rt = await runtime();
    const fn = await deploy(rt, source("javascript", { "main.mjs": "export async function handler(event, context) {\n  console.log('logged');\n  await new Promise((r) => setTimeout(r, 10));\n  return { got: event, id: context.invocationId, name: context.functionName, left: context.remainingTimeMs() > 0 };\n}\n" }));
    const outcome = await rt.invoke(fn, json({ x: 1 }), { id: "esm-1", logs: true });
    expect(outcome.status).toBe("ok");
    expect(JSON.parse(outcome.body.toString())).toEqual({ got: { x: 1 }, id: "esm-1", name: fn.name, left: true });
    expect(outcome.logs?.stderr).toContain("logged");
  });

  it("measures the handler's own time around its call (handlerMs), warm and when it throws: at least what it slept, at most the invocation's duration", async () => {
    const rt = await runtime();
    const python = await deploy(rt, source("python", { "main.py": "import time\ndef handler(event, context):\n    time.sleep(0.05)\n    if event:\n        raise ValueError('no')\n    return 1\n" }));
    const node = await deploy(rt, source("javascript", { "main.mjs": "export async function handler(event) {\n  await new Promise((r) => setTimeout(r, 50));\n  if (event) throw new Error('no');\n  return 1;\n}\n" }));
    for (const fn of [python, node]) {
      await call(rt, fn);
      await warmed(rt);
      for (const [event, status] of [[false, "ok"], [true, "function_error"]] as const) {
        const outcome = await call(rt, fn, json(event));
        expect(outcome.status).toBe(status);
        expect(outcome.handlerMs).toBeGreaterThanOrEqual(49);
        expect(outcome.handlerMs).toBeLessThanOrEqual(outcome.durationMs);
        await warmed(rt);
      }
    }
  });

  it("runs a CommonJS Node.js handler, and answers a Buffer as bytes", async () => {
    const rt = await runtime();
    const fn = await deploy(rt, source("javascript", { "main.js": "exports.handler = (event) => Buffer.from(event.toString('utf8').toUpperCase());\n" }));
    const outcome = await call(rt, fn, bytes(Buffer.from("abc")));
    expect(outcome).toMatchObject({ status: "ok", contentType: "application/octet-stream" });
    expect(outcome.body.toString()).toBe("ABC");
  });

  it("runs a CommonJS handler exported as module.exports = { handler }, and reports a Node.js handler that never returns as function_timeout", async () => {
    const rt = await runtime({ maxWarmPerVersion: 0 });
    const cjs = await deploy(rt, source("javascript", { "main.cjs": "module.exports = { handler: async (event, context) => ({ twice: event * 2, version: context.functionVersion }) };\n" }));
    const outcome = await call(rt, cjs, json(21));
    expect(JSON.parse(outcome.body.toString())).toEqual({ twice: 42, version: "1" });
    // the trial load (Node.js's start and the import) has the function's limits too: 2 s leaves room on a loaded machine
    const stuck = await deploy(rt, source("javascript", { "main.mjs": "export const handler = () => new Promise(() => setInterval(() => {}, 1000));\n" }, { limits: { wallTimeMs: 2000 * TIME_SCALE } }));
    expect((await call(rt, stuck)).status).toBe("function_timeout");
  });

  it("refuses a Node.js module without the handler at build, with the reason", async () => {
    const rt = await runtime();
    const built = await rt.build(source("javascript", { "main.js": "exports.other = () => 1;\n" }));
    expect(built).toMatchObject({ ok: false, stage: "load" });
    const syntax = await rt.build(source("javascript", { "main.mjs": "export function handler( {\n" }));
    expect(syntax).toMatchObject({ ok: false, stage: "load" });
    if (!syntax.ok) expect(syntax.message).toContain("SyntaxError");
  });

  it("runs a process-mode C function warm, from its build compiled once", async () => {
    const rt = await runtime();
    const fn = await deploy(rt, source("c", { "main.c": '#include <stdio.h>\nint main(void){char b[64]; size_t n = fread(b, 1, sizeof b, stdin); printf("[%.*s]", (int)n, b); return 0;}\n' }, { mode: "process" }));
    await call(rt, fn, bytes(Buffer.from("one")));
    await warmed(rt);
    const outcome = await call(rt, fn, bytes(Buffer.from("two")));
    expect(outcome).toMatchObject({ status: "ok", cold: false, contentType: "application/octet-stream" });
    expect(outcome.body.toString()).toBe("[two]");
  });
});

describe("errors", () => {
  it("reports a handler that throws as function_error with its type, message and stack", async () => {
    const rt = await runtime();
    const fn = await deploy(rt, source("python", { "main.py": "def handler(event, context):\n    raise ValueError('no good: ' + str(event))\n" }));
    const outcome = await call(rt, fn, json(7));
    expect(outcome.status).toBe("function_error");
    expect(outcome.error).toMatchObject({ type: "ValueError", message: "no good: 7" });
    expect(outcome.error && "stack" in outcome.error ? outcome.error.stack : "").toContain("main.py");
    const node = await deploy(rt, source("javascript", { "main.mjs": "export const handler = async () => { throw new RangeError('out of range'); };\n" }));
    expect((await call(rt, node)).error).toMatchObject({ type: "RangeError", message: "out of range" });
  });

  it("reports a handler that never returns as function_timeout and destroys its container", async () => {
    const rt = await runtime({ maxWarmPerVersion: 0 });
    const src = source("python", { "main.py": "import time\ndef handler(event, context):\n    time.sleep(1000)\n" }, { limits: { wallTimeMs: 2000 * TIME_SCALE } });
    const fn = await deploy(rt, src);
    const outcome = await call(rt, fn);
    expect(outcome.status).toBe("function_timeout");
    await eventually("the timed-out container to be gone", () => (processesWith(src.name).length === 0 ? true : undefined));
  });

  it("reports a handler that runs out of memory as function_memory_exceeded (Python and Node.js)", async () => {
    const rt = await runtime();
    const py = await deploy(rt, source("python", { "main.py": "def handler(event, context):\n    return len(bytearray(512 * 1024 * 1024))\n" }, { limits: { memoryMb: 64 } }));
    expect((await call(rt, py)).status).toBe("function_memory_exceeded");
    const js = await deploy(rt, source("javascript", { "main.mjs": "export function handler() { const a = []; for (;;) a.push(new Array(1e6).fill(1)); }\n" }, { limits: { memoryMb: 96 } }));
    expect((await call(rt, js)).status).toBe("function_memory_exceeded");
  });

  it("reports a process that exits without answering, and an event that is not JSON, as the function's errors", async () => {
    const rt = await runtime();
    const exits = await deploy(rt, source("python", { "main.py": "import os\ndef handler(event, context):\n    os._exit(3)\n" }));
    expect((await call(rt, exits)).error).toMatchObject({ type: "ExitCode" });
    const echo = await deploy(rt, source("python", { "main.py": "def handler(event, context):\n    return event\n" }));
    const bad = await call(rt, echo, bytes(Buffer.from("{not json"), "application/json"));
    expect(bad).toMatchObject({ status: "function_error", error: { type: "InvalidEvent" } });
  });
});

describe("no state crosses from one invocation to the next", () => {
  it("a global, a file in /tmp and a daemon left by one invocation are not seen by the next (warm)", async () => {
    const rt = await runtime();
    const marker = `warren-fn-daemon-${process.pid}`;
    const src = source("python", {
      "main.py": [
        "import os, subprocess, time",
        "calls = 0",
        "def daemon():",
        "    return any(open('/proc/%s/cmdline' % p, 'rb').read().startswith(b'" + marker + "') for p in os.listdir('/proc') if p.isdigit())",
        "def handler(event, context):",
        "    global calls",
        "    calls += 1",
        "    seen = {'calls': calls, 'tmp': os.path.exists('/tmp/left'), 'daemon': daemon()}",
        "    open('/tmp/left', 'w').write('x')",
        "    subprocess.Popen(['bash', '-c', 'exec -a " + marker + " sleep 1000'], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)",
        "    for _ in range(200):",
        "        if daemon():",
        "            break",
        "        time.sleep(0.01)",
        "    seen['started'] = daemon()  # the daemon runs when the handler returns: the next invocation must not see it",
        "    return seen",
        "",
      ].join("\n"),
    });
    const fn = await deploy(rt, src);
    const first = await call(rt, fn);
    expect(JSON.parse(first.body.toString())).toEqual({ calls: 1, tmp: false, daemon: false, started: true });
    await warmed(rt);
    for (let i = 0; i < 3; i++) {
      const next = await call(rt, fn);
      expect(next.cold).toBe(false);
      expect(JSON.parse(next.body.toString())).toEqual({ calls: 1, tmp: false, daemon: false, started: true });
      await warmed(rt);
    }
    await eventually("every daemon to be gone with its container", () => (processesWith(marker, { prefix: true }).length === 0 ? true : undefined));
  });
});

describe("a caller that goes away", () => {
  it("cancels the invocation (its signal): status failed, code cancelled, and its container is gone", async () => {
    const rt = await runtime({ maxWarmPerVersion: 0 });
    const src = source("python", { "main.py": "import time\ndef handler(event, context):\n    print('started', flush=True)\n    time.sleep(1000)\n" });
    const fn = await deploy(rt, src);
    const controller = new AbortController();
    const outcome = rt.invoke(fn, json(null), { id: "gone-1", logs: false, signal: controller.signal });
    await eventually("the handler to run", () => (processesWith(src.name).length > 0 ? true : undefined));
    controller.abort();
    expect(await outcome).toMatchObject({ status: "failed", error: { code: "cancelled" } });
    await eventually("the cancelled container to be gone", () => (processesWith(src.name).length === 0 ? true : undefined));
  });
});
