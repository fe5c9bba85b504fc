// A Node.js handler's zygote (docs/functions.md, "The zygote"; SECURITY.md):
// invocations as children forked from a Node.js process that imported the
// handler once (warren-zygote.node: libc's fork of a process with threads,
// V8 on one thread, the event loop made the child's own), each in fresh
// namespaces, cgroup and scratch. Real kernel, real sandboxes, the real
// launcher and the built module.
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import type { FunctionVersion, InvocationOutcome } from "../../src/run/functions.js";
import { type SandboxFunctionRuntime } from "../../src/worker/functions/runtime.js";
import { eventually } from "../helpers/eventually.js";
import { processesWith } from "../helpers/processes.js";
import { TIME_SCALE } from "../helpers/sandbox.js";
import { deploy, json, runtimes, source } from "./fixtures.js";

const runtime = runtimes(true);

let ids = 0;
const call = (rt: SandboxFunctionRuntime, fn: FunctionVersion, event = json(null), logs = false) => rt.invoke(fn, event, { id: `zyg-node-${++ids}`, logs });
const body = (outcome: InvocationOutcome): any => {
  if (outcome.status !== "ok") throw new Error(`invocation failed: ${JSON.stringify({ ...outcome, body: outcome.body.toString() })}`);
  return JSON.parse(outcome.body.toString());
};

/** How many pid namespaces host process PID is in (a zygote is in 2, a child in 3); 0 once gone. */
const depth = (pid: number) => {
  try {
    return /^NSpid:\s+(.*)$/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]?.trim().split(/\s+/).length ?? 0;
  } catch {
    return 0;
  }
};

/** The zygotes of function NAME (their children have their command line too: they were forked, never exec'd). */
const zygotesOf = (name: string) => processesWith(`node_shim.mjs\u0000zygote\u0000main\u0000handler\u0000${name}\u0000`).filter((pid) => depth(pid) === 2);

/** Invokes FN once (cold: none yet) and waits until its zygote is up. */
async function withZygote(rt: SandboxFunctionRuntime, fn: FunctionVersion): Promise<void> {
  await call(rt, fn);
  await eventually("a zygote to be up", () => (rt.zygotes >= 1 ? true : undefined));
}

// What a handler reports of where it runs: pid 1 of its own pid namespace, no other process in sight
const WHERE = "import fs from 'node:fs';\nconst where = () => ({ pid: process.pid, ppid: process.ppid, pids: fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).map(Number).sort((a, b) => a - b) });\n";

describe("a Node.js handler's zygote", () => {
  it("answers invocations from children of a zygote once it is up: warm, each pid 1 of its own pid namespace, its awaits served", async () => {
    const rt = await runtime({ nodeZygotes: true });
    const fn = await deploy(
      rt,
      source("javascript", {
        "main.mjs": `${WHERE}import crypto from 'node:crypto';\nexport async function handler(event, context) {\n  await new Promise((r) => setTimeout(r, 5));\n  const file = await fs.promises.readFile('main.mjs', 'utf8');\n  const key = await new Promise((res, rej) => crypto.pbkdf2('a', 'b', 10, 8, 'sha256', (e, k) => (e ? rej(e) : res(k.toString('hex')))));\n  console.log('to the logs');\n  return { twice: event * 2, id: context.invocationId, file: file.length > 0, key, ...where() };\n}\n`,
      }),
    );
    const first = await call(rt, fn, json(1));
    expect(first.cold).toBe(true);
    await eventually("a zygote to be up", () => (rt.zygotes >= 1 ? true : undefined));
    expect(zygotesOf(fn.name)).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      const outcome = await call(rt, fn, json(i), true);
      expect(outcome.cold).toBe(false);
      expect(body(outcome)).toEqual({ twice: i * 2, id: expect.stringMatching(/^zyg-node-/), file: true, key: "8035ce8e3b671cc3", pid: 1, ppid: 0, pids: [1] });
      expect(outcome.logs?.stderr).toContain("to the logs"); // the handler's stdout is its stderr: the response has the channel
      expect(outcome.cpuTimeMs).toBeGreaterThan(0);
      expect(outcome.memoryKb).toBeGreaterThan(0);
    }
    expect(rt.warm).toBe(0); // no prepared containers are kept for a version its zygotes serve
  });

  it("a global, a file in /tmp or the work dir, a socket opened at import, and a daemon left by one child are not seen by the next; what the import did is", async () => {
    const rt = await runtime({ nodeZygotes: true });
    const marker = `warren-zygote-node-daemon-${process.pid}`;
    const src = source("javascript", {
      "main.mjs": [
        "import fs from 'node:fs';",
        "import net from 'node:net';",
        "import { spawn, execFileSync } from 'node:child_process';",
        "fs.writeFileSync('imported.txt', 'at import');",
        "// a connection the import opened: each child has its own end of it closed, never the zygote's",
        "const server = net.createServer((c) => c.end('hello')).listen(0, '127.0.0.1');",
        "await new Promise((r) => server.once('listening', r));",
        "const socket = net.connect(server.address().port, '127.0.0.1');",
        "let greeting = '';",
        "socket.on('data', (d) => (greeting += d)).on('error', () => {});",
        "await new Promise((r) => socket.once('end', r));",
        `const daemon = () => fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p)).some((p) => { try { return fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').startsWith('${marker}'); } catch { return false; } });`,
        "let calls = 0;",
        "export async function handler() {",
        "  calls += 1;",
        "  const seen = { calls, greeting, importFile: fs.existsSync('imported.txt'), left: ['/tmp/left', '/dev/shm/left', 'left'].filter((p) => fs.existsSync(p)), daemon: daemon() };",
        "  for (const p of ['/tmp/left', '/dev/shm/left', 'left']) fs.writeFileSync(p, 'x');",
        "  seen.echo = execFileSync('/bin/echo', ['child processes work']).toString().trim();",
        `  spawn('bash', ['-c', 'exec -a ${marker} sleep 1000'], { detached: true, stdio: 'ignore' }).unref();`,
        "  for (let i = 0; i < 200 && !daemon(); i++) await new Promise((r) => setTimeout(r, 10));",
        "  seen.started = daemon(); // the daemon runs when the handler returns: the next child must not see it",
        "  return seen;",
        "}",
        "",
      ].join("\n"),
    });
    const fn = await deploy(rt, src);
    await withZygote(rt, fn);
    for (let i = 0; i < 3; i++) {
      const outcome = await call(rt, fn);
      expect(outcome.cold).toBe(false);
      expect(body(outcome)).toEqual({ calls: 1, greeting: "hello", importFile: true, left: [], daemon: false, echo: "child processes work", started: true });
    }
    await eventually("every daemon to be gone with its child", () => (processesWith(marker, { prefix: true }).length === 0 ? true : undefined));
  });

  it("is off unless asked for (WARREN_FUNCTION_NODE_ZYGOTES): Node.js handlers then get prepared containers", async () => {
    const rt = await runtime();
    const fn = await deploy(rt, source("javascript", { "main.mjs": "export const handler = () => process.pid;\n" }));
    await call(rt, fn);
    await eventually("a prepared container to be ready", () => (rt.warm >= 1 ? true : undefined));
    expect(body(await call(rt, fn))).not.toBe(1);
    expect(rt.zygotes).toBe(0);
  });

  it("gives each child its own Math.random and crypto.randomUUID, though the import drew from both", async () => {
    const rt = await runtime({ nodeZygotes: true });
    const src = source("javascript", {
      "main.mjs": "import crypto, { randomUUID } from 'node:crypto';\nconst atImport = [Math.random(), randomUUID()];\nexport const handler = () => ({ random: Math.random(), uuid: crypto.randomUUID(), named: randomUUID(), web: globalThis.crypto.randomUUID(), atImport });\n",
    });
    const fn = await deploy(rt, src);
    await withZygote(rt, fn);
    const seen = [body(await call(rt, fn)), body(await call(rt, fn)), body(await call(rt, fn))];
    for (const key of ["random", "uuid", "named", "web"]) expect(new Set(seen.map((b) => b[key])).size).toBe(3);
    expect(seen.every((b) => typeof b.random === "number" && b.random >= 0 && b.random < 1)).toBe(true);
    expect(new Set(seen.map((b) => JSON.stringify(b.atImport))).size).toBe(1); // what the import drew is the zygote's, the same in each
  });

  it("gives no zygote to a version whose import left a thread of its own running (a Worker): its invocations get prepared containers", async () => {
    const errors: string[] = [];
    const rt = await runtime({ nodeZygotes: true, onError: (error) => errors.push(error instanceof Error ? error.message : String(error)) });
    const src = source("javascript", {
      "main.mjs": "import { Worker } from 'node:worker_threads';\nnew Worker('setInterval(() => {}, 1000)', { eval: true }).unref();\nawait new Promise((r) => setTimeout(r, 100));\nexport const handler = (event) => ({ got: event, pid: process.pid });\n",
    });
    const fn = await deploy(rt, src);
    expect(body(await call(rt, fn, json(1)))).toMatchObject({ got: 1 });
    await eventually("the zygote to be refused", () => (errors.some((message) => /thread\(s\) of its own running/.test(message)) ? true : undefined));
    for (let i = 0; i < 2; i++) {
      const outcome = await call(rt, fn, json(i));
      expect(body(outcome)).toMatchObject({ got: i });
      expect(body(outcome).pid).not.toBe(1); // a prepared container's program, not a zygote's child
    }
    expect(rt.zygotes).toBe(0);
  });

  it("enforces the function's limits on each child and keeps the zygote for the next: out of memory, timeout, a throw, a process that exits", async () => {
    const timeout = 3000 * TIME_SCALE; // Node.js's own start in the build's trial load fits in it on a busy machine
    const rt = await runtime({ nodeZygotes: true });
    const src = source(
      "javascript",
      {
        "main.mjs": [
          "export async function handler(event) {",
          "  if (event === 'memory') { const hog = []; for (let i = 0; i < 512; i++) hog.push(Buffer.alloc(1 << 20, 1)); return hog.length; }",
          "  if (event === 'sleep') await new Promise(() => setInterval(() => {}, 1000));",
          "  if (event === 'throw') throw new RangeError('no such thing');",
          "  if (event === 'exit') process.exit(3);",
          "  return process.pid;",
          "}",
          "",
        ].join("\n"),
      },
      { limits: { memoryMb: 96, wallTimeMs: timeout } },
    );
    const fn = await deploy(rt, src);
    await withZygote(rt, fn);
    const first = zygotesOf(src.name);
    expect(first).toHaveLength(1);
    expect(await call(rt, fn, json("memory"))).toMatchObject({ status: "function_memory_exceeded", cold: false });
    expect(body(await call(rt, fn, json("ok")))).toBe(1);
    expect(await call(rt, fn, json("sleep"))).toMatchObject({ status: "function_timeout", cold: false });
    expect(await call(rt, fn, json("throw"))).toMatchObject({ status: "function_error", cold: false, error: { type: "RangeError", message: "no such thing" } });
    expect(await call(rt, fn, json("exit"))).toMatchObject({ status: "function_error", error: { type: "ExitCode" } });
    const after = await call(rt, fn, json("ok"));
    expect(after.cold).toBe(false);
    expect(body(after)).toBe(1);
    expect(zygotesOf(src.name)).toContain(first[0]); // kept through all of it (a second may have joined it: back to back)
  });
});
