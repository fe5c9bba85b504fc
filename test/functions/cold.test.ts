// Functions, cold path (src/worker/functions): each invocation in a fresh
// container; build = compile + trial load. Real kernel, real sandboxes.
import { afterAll, describe, expect, it } from "vitest";
import { createFunctionRuntime } from "../../src/worker/functions/runtime.js";
import { sandbox } from "../helpers/sandbox.js";
import { json, source, version } from "./fixtures.js";

const runtimes: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const runtime of runtimes) await runtime.close();
});

async function runtime() {
  const made = createFunctionRuntime(await sandbox());
  runtimes.push(made);
  return made;
}

describe("FunctionRuntime, cold", () => {
  it("invokes a Python handler with the JSON event and context, and answers its result as JSON", async () => {
    const fn = source("python", { "main.py": "def handler(event, context):\n    return {'sum': event['a'] + event['b'], 'id': context.invocation_id, 'fn': context.function_name, 'left': context.remaining_time_ms() > 0}\n" });
    const rt = await runtime();
    expect(await rt.build(fn)).toEqual({ ok: true, build: null });
    const outcome = await rt.invoke(version(fn), json({ a: 2, b: 3 }), { id: "inv-1", logs: false });
    expect(outcome.status).toBe("ok");
    expect(outcome.cold).toBe(true);
    expect(outcome.contentType).toBe("application/json");
    expect(JSON.parse(outcome.body.toString())).toEqual({ sum: 5, id: "inv-1", fn: fn.name, left: true });
  });

  it("runs a process-mode C function from its build: event on stdin, response from stdout, logs from stderr", async () => {
    const fn = source("c", { "main.c": '#include <stdio.h>\nint main(void){int c; long n=0; while((c=getchar())!=EOF) n++; fprintf(stderr, "counted\\n"); printf("%ld bytes", n); return 0;}\n' }, { mode: "process" });
    const rt = await runtime();
    const built = await rt.build(fn);
    expect(built.ok).toBe(true);
    if (!built.ok) return;
    expect(built.build?.map((file) => file.path)).toEqual(["main"]);
    const outcome = await rt.invoke(version(fn, built.build), json("hello"), { id: "inv-2", logs: true });
    expect(outcome.status).toBe("ok");
    expect(outcome.body.toString()).toBe("7 bytes");
    expect(outcome.logs?.stderr).toBe("counted\n");
  });

  it("runs a process-mode Python function; a non-zero exit is the function's error, with its stderr in the logs", async () => {
    const rt = await runtime();
    const echo = source("python", { "main.py": "import sys\ndata = sys.stdin.buffer.read()\nif data == b'fail':\n    print('failing', file=sys.stderr)\n    sys.exit(4)\nsys.stdout.buffer.write(data[::-1])\n" }, { mode: "process" });
    expect(await rt.build(echo)).toEqual({ ok: true, build: null });
    const fn = version(echo);
    const ok = await rt.invoke(fn, { body: Buffer.from("abc"), contentType: "text/plain" }, { id: "p-1", logs: false });
    expect(ok).toMatchObject({ status: "ok", contentType: "application/octet-stream" });
    expect(ok.body.toString()).toBe("cba");
    const failed = await rt.invoke(fn, { body: Buffer.from("fail"), contentType: "text/plain" }, { id: "p-2", logs: true });
    expect(failed).toMatchObject({ status: "function_error", error: { type: "ExitCode" } });
    expect(failed.logs?.stderr).toBe("failing\n");
  });

  it("reports a response over the output limit as the function's error, never a cut response", async () => {
    const rt = await runtime();
    const big = source("python", { "main.py": "def handler(event, context):\n    return 'x' * (1024 * 1024)\n" }, { limits: { outputKb: 64 } });
    const outcome = await rt.invoke(version(big), json(null), { id: "big-1", logs: false });
    expect(outcome).toMatchObject({ status: "function_error", error: { type: "OutputLimitExceeded" } });
    expect(outcome.body.length).toBe(0);
  });

  it("answers a deploy whose code does not compile or whose handler cannot be loaded with the compiler's or the import's output", async () => {
    const rt = await runtime();
    const broken = await rt.build(source("c", { "main.c": "int main(void) { return nope; }\n" }, { mode: "process" }));
    expect(broken).toMatchObject({ ok: false, stage: "compile" });
    if (!broken.ok) expect(broken.output).toContain("nope");
    const raises = await rt.build(source("python", { "main.py": "import no_such_module_here\n" }));
    expect(raises).toMatchObject({ ok: false, stage: "load" });
    if (!raises.ok) expect(`${raises.message}\n${raises.output}`).toContain("no_such_module_here");
    const missing = await rt.build(source("python", { "main.py": "def other(event, context):\n    return 1\n" }));
    expect(missing).toMatchObject({ ok: false, stage: "load" });
    if (!missing.ok) expect(missing.message).toContain("HandlerNotFound");
  });
});
