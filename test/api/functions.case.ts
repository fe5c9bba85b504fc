import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiOptions } from "../../src/api/context.js";
import { errorSchema } from "../../src/api/answer-schemas.js";
import { runResultSchema } from "../../src/run/result-schema.js";
import type { JobQueue } from "../../src/queue/index.js";
import { createFunctionRuntime } from "../../src/worker/functions/runtime.js";
import { eventually } from "../helpers/eventually.js";
import { sandbox, TIME_SCALE } from "../helpers/sandbox.js";
import { LOOPBACK_CALLBACKS, testApp, type TestApp } from "./fixture.js";
import type { FunctionRuntime } from "../../src/run/functions.js";
import { createServer, type IncomingMessage } from "node:http";

/** Makes the queue under test, with extra variables (WARREN_FUNCTION_MAX_BYTES, …). */
export type OpenQueue = (env: Record<string, string>) => Promise<JobQueue>;

interface FnServer {
  readonly base: string;
  readonly t: TestApp;
  /** The names the worker's runtime was asked to retire (the real runtime's retire is called too). */
  readonly retired: string[];
  /** The ids of the invocations the worker's runtime was handed. */
  readonly invoked: string[];
  close(): Promise<void>;
}

async function listen(queue: JobQueue, options: Partial<ApiOptions>): Promise<FnServer> {
  const runtime = createFunctionRuntime(await sandbox());
  const retired: string[] = [];
  const invoked: string[] = [];
  const watched: FunctionRuntime = {
    build: (source, signal) => runtime.build(source, signal),
    invoke: (fn, event, invocation) => {
      invoked.push(invocation.id);
      return runtime.invoke(fn, event, invocation);
    },
    retire: async (name, number) => {
      retired.push(name);
      await runtime.retire(name, number);
    },
    close: () => runtime.close(),
  };
  const t = await testApp(options, { queue, functions: watched, callback: LOOPBACK_CALLBACKS });
  const server = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise<void>((resolve) => server.once("listening", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    t,
    retired,
    invoked,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
      await runtime.close();
    },
  };
}

const LIMITS = { wallTimeMs: 10_000 * TIME_SCALE, cpuTimeMs: 5_000 * TIME_SCALE };
const KEYS = ["key-alice", "key-bob"];
const as = (key: string) => ({ authorization: `Bearer ${key}` });

export const pythonFn = (code: string, extra: Record<string, unknown> = {}) => ({ language: "python", handler: "main.handler", files: [{ path: "main.py", content: code }], limits: LIMITS, ...extra });

/** An error answer's code, its body checked against the error shape (API.md, and the functions' codes). */
async function codeOf(response: Response): Promise<string> {
  return errorSchema.parse(await response.json()).error.code;
}

let names = 0;
const fresh = (what: string) => `${what}-${process.pid}-${++names}`;

/** The functions API against a queue backend: every test with a real worker, the real runtime and real sandboxes. */
export function functionsContract(label: string, open: OpenQueue): void {
  describe(`functions (${label})`, () => {
    let s: FnServer;
    beforeAll(async () => {
      s = await listen(await open({}), { bodyLimitBytes: 256 * 1024 });
    });
    afterAll(async () => {
      await s?.close();
    });

    const deploy = (name: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${s.base}/v1/functions/${name}`, { method: "PUT", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
    const invoke = (ref: string, body: string | Buffer, headers: Record<string, string> = { "content-type": "application/json" }, query = "") =>
      fetch(`${s.base}/v1/functions/${ref}/invoke${query}`, { method: "POST", headers, body });

    it("deploys a Python handler (201, version 1), lists it, reads it without its env values, and invokes it with the result and the X-Warren headers", async () => {
      const name = fresh("sum");
      const deployed = await deploy(name, pythonFn("import os\ndef handler(event, context):\n    return {'sum': event['a'] + event['b'], 'fn': context.function_name, 'secret': len(os.environ['API_TOKEN'])}\n", { env: { API_TOKEN: "hunter2-very-secret" } }));
      expect(deployed.status).toBe(201);
      const version = (await deployed.json()) as Record<string, unknown>;
      expect(version).toMatchObject({ name, version: "1", number: 1, language: "python", mode: "handler", handler: "main.handler", env: ["API_TOKEN"] });
      expect(version.digest).toMatch(/^[0-9a-f]{64}$/);
      expect((version.sizes as { sourceBytes: number }).sourceBytes).toBeGreaterThan(0);

      const listed = await (await fetch(`${s.base}/v1/functions`)).text();
      expect(JSON.parse(listed)).toEqual(expect.arrayContaining([expect.objectContaining({ name, versions: 1, latest: expect.objectContaining({ version: "1" }) })]));
      const read = await fetch(`${s.base}/v1/functions/${name}`);
      expect(read.status).toBe(200);
      const text = await read.text();
      expect(JSON.parse(text)).toMatchObject({ name, latest: "1", versions: [{ number: 1, env: ["API_TOKEN"] }] });
      // The env's value is nowhere in what the API returns.
      for (const answer of [JSON.stringify(version), listed, text]) expect(answer).not.toContain("hunter2");

      const invoked = await invoke(name, JSON.stringify({ a: 2, b: 40 }));
      expect(invoked.status).toBe(200);
      expect(invoked.headers.get("content-type")).toBe("application/json");
      expect(await invoked.json()).toEqual({ sum: 42, fn: name, secret: "hunter2-very-secret".length });
      expect(invoked.headers.get("x-warren-invocation-id")).toMatch(/^[0-9a-f-]{36}$/);
      expect(invoked.headers.get("x-warren-cold")).toMatch(/^(true|false)$/);
      expect(Number(invoked.headers.get("x-warren-duration-ms"))).toBeGreaterThanOrEqual(0);
      // the handler's own time, within the duration: what is left of a sync answer's time is Warren's
      expect(invoked.headers.get("x-warren-handler-ms")).toMatch(/^[0-9.]+$/);
      expect(Number(invoked.headers.get("x-warren-handler-ms"))).toBeLessThanOrEqual(Number(invoked.headers.get("x-warren-duration-ms")));
      expect(Number(invoked.headers.get("x-warren-memory-kb"))).toBeGreaterThan(0);
      expect(invoked.headers.get("x-warren-function-version")).toBe("1");
    }, 60_000);

    it("passes bytes with their content type to a process-mode function, and answers its stdout; ?logs=true adds its stderr in X-Warren-Logs", async () => {
      const name = fresh("upper");
      const code = "import sys\nsys.stderr.write('got some bytes\\n')\nsys.stdout.buffer.write(sys.stdin.buffer.read().upper())\n";
      expect((await deploy(name, { language: "python", mode: "process", files: [{ path: "main.py", content: code }], limits: LIMITS })).status).toBe(201);
      const invoked = await invoke(name, Buffer.from([0x68, 0x69, 0x00, 0xff, 0x0a]), { "content-type": "application/octet-stream" }, "?logs=true");
      expect(invoked.status).toBe(200);
      expect(invoked.headers.get("content-type")).toBe("application/octet-stream");
      expect(Buffer.from(await invoked.arrayBuffer())).toEqual(Buffer.from([0x48, 0x49, 0x00, 0xff, 0x0a]));
      const logs = JSON.parse(Buffer.from(invoked.headers.get("x-warren-logs") ?? "", "base64").toString("utf8")) as { stderr: string; truncated: boolean };
      expect(logs.stderr).toContain("got some bytes");
      expect(logs.truncated).toBe(false);
      // Without ?logs there is no header; a process has no handler to time.
      const plain = await invoke(name, "x", { "content-type": "text/plain" });
      expect(plain.headers.get("x-warren-logs")).toBeNull();
      expect(plain.headers.get("x-warren-handler-ms")).toBeNull();
    }, 60_000);

    it("answers a handler that throws 502 function_error with its type, message and stack, and one that never returns 504 function_timeout", async () => {
      const name = fresh("throws");
      expect((await deploy(name, pythonFn("def handler(event, context):\n    raise ValueError('bad input: ' + str(event))\n"))).status).toBe(201);
      const thrown = await invoke(name, "7");
      expect(thrown.status).toBe(502);
      const body = (await thrown.json()) as { error: { code: string; details: { type: string; message: string; stack: string } } };
      expect(body.error.code).toBe("function_error");
      expect(body.error.details).toMatchObject({ type: "ValueError", message: "bad input: 7" });
      expect(body.error.details.stack).toContain("main.py");

      const sleeper = fresh("sleeps");
      expect((await deploy(sleeper, pythonFn("import time\ndef handler(event, context):\n    time.sleep(600)\n", { limits: { wallTimeMs: 2_000 * TIME_SCALE } }))).status).toBe(201);
      const timedOut = await invoke(sleeper, "{}");
      expect(timedOut.status).toBe(504);
      expect(await codeOf(timedOut)).toBe("function_timeout");
    }, 60_000);

    it("answers 404 for an unknown function or version, 413 past the body limit, 400 for a bad name, body or query", async () => {
      const name = fresh("echo");
      expect((await deploy(name, pythonFn("def handler(event, context):\n    return event\n"))).status).toBe(201);
      expect((await invoke(fresh("never"), "{}")).status).toBe(404);
      expect(await codeOf(await invoke(`${name}@9`, "{}"))).toBe("not_found");
      expect((await invoke(`${name}@nolabel`, "{}")).status).toBe(404);
      expect((await fetch(`${s.base}/v1/functions/${fresh("never")}`)).status).toBe(404);
      expect((await fetch(`${s.base}/v1/functions/${fresh("never")}`, { method: "DELETE" })).status).toBe(404);
      const big = await invoke(name, JSON.stringify("x".repeat(300 * 1024)));
      expect(big.status).toBe(413);
      expect(await codeOf(big)).toBe("payload_too_large");
      expect((await invoke(`${name}`, "{}", { "content-type": "application/json" }, "?async=maybe")).status).toBe(400);
      // A JSON event that is not JSON is the caller's mistake (400), not the function's error; as text it is the handler's string.
      expect(await codeOf(await invoke(name, "{not json", { "content-type": "application/json; charset=utf-8" }))).toBe("invalid_request");
      expect(await (await invoke(name, "{not json", { "content-type": "text/plain" })).json()).toBe("{not json");
      expect((await deploy("bad.name", pythonFn("x = 1\n"))).status).toBe(400);
      expect((await deploy(fresh("nohandler"), { language: "python", files: [{ path: "main.py", content: "x = 1\n" }] })).status).toBe(400);
      expect((await deploy(fresh("both"), { language: "python", mode: "process", handler: "main.handler", files: [{ path: "main.py", content: "x = 1\n" }] })).status).toBe(400);
      expect((await deploy(fresh("huge"), pythonFn("x = 1\n", { limits: { memoryMb: 10 ** 7 } }))).status).toBe(400);
      expect((await deploy(fresh("numeric"), pythonFn("x = 1\n", { version: "12" }))).status).toBe(400);
      expect((await deploy(fresh("lang"), { ...pythonFn("x = 1\n"), language: "cobol-77" })).status).toBe(400);
      expect((await deploy(fresh("extra"), { ...pythonFn("x = 1\n"), surprise: true })).status).toBe(400);
    }, 60_000);

    it("refuses a deploy whose handler cannot be imported, or whose code does not compile, with 400 and the import's or the compiler's output; nothing is stored", async () => {
      const name = fresh("broken");
      const imports = await deploy(name, pythonFn("import no_such_module_for_warren\n"));
      expect(imports.status).toBe(400);
      const refused = (await imports.json()) as { error: { code: string; message: string; details: { stage: string; output: string } } };
      expect(refused.error.code).toBe("function_cannot_start");
      expect(refused.error.details.stage).toBe("load");
      expect(`${refused.error.message}\n${refused.error.details.output}`).toContain("no_such_module_for_warren");
      expect((await fetch(`${s.base}/v1/functions/${name}`)).status).toBe(404);

      const compiled = await deploy(fresh("cbroken"), { language: "c", mode: "process", files: [{ path: "main.c", content: "int main(void) { return nope_undeclared; }\n" }], limits: LIMITS });
      expect(compiled.status).toBe(400);
      const failed = (await compiled.json()) as { error: { details: { stage: string; output: string } } };
      expect(failed.error.details.stage).toBe("compile");
      expect(failed.error.details.output).toContain("nope_undeclared");
    }, 60_000);

    it("invokes asynchronously (?async=true, Prefer: respond-async): 202 and the id, then GET /v1/invocations/:id has the outcome", async () => {
      const name = fresh("later");
      expect((await deploy(name, pythonFn("def handler(event, context):\n    return {'twice': event * 2}\n"))).status).toBe(201);
      for (const [query, headers] of [["?async=true", {}], ["", { prefer: "respond-async" }]] as const) {
        const queued = await invoke(name, "21", { "content-type": "application/json", ...headers }, query);
        expect(queued.status).toBe(202);
        const { id, status } = (await queued.json()) as { id: string; status: string };
        expect(status).toBe("queued");
        expect(queued.headers.get("location")).toBe(`/v1/invocations/${id}`);
        const done = await eventually("the invocation's outcome", async () => {
          const view = (await (await fetch(`${s.base}/v1/invocations/${id}`)).json()) as Record<string, unknown>;
          return view.status === "queued" || view.status === "running" ? undefined : view;
        });
        expect(done).toMatchObject({ id, function: name, version: "1", status: "ok", contentType: "application/json", bodyEncoding: "base64" });
        expect(JSON.parse(Buffer.from(done.body as string, "base64").toString())).toEqual({ twice: 42 });
      }
      expect((await fetch(`${s.base}/v1/invocations/no-such-id`)).status).toBe(404);
    }, 60_000);

    it("makes each deploy a new immutable version: a label, @label and @number, a label taken (409); a deploy while an invocation runs — it finishes on its version, new ones get the new", async () => {
      const name = fresh("versions");
      // Version 1 holds its invocation long enough for version 2 to be deployed meanwhile.
      expect((await deploy(name, pythonFn("import time\ndef handler(event, context):\n    time.sleep(event)\n    return 'one'\n"))).status).toBe(201);
      const slow = await invoke(name, String(2 * TIME_SCALE), { "content-type": "application/json" }, "?async=true");
      const { id } = (await slow.json()) as { id: string };
      await eventually("the first invocation running", async () => ((await (await fetch(`${s.base}/v1/invocations/${id}`)).json()) as { status: string }).status === "running" || undefined);
      const second = await deploy(name, pythonFn("def handler(event, context):\n    return 'two'\n", { version: "blue" }));
      expect(second.status).toBe(201);
      expect(await second.json()).toMatchObject({ version: "blue", number: 2 });
      expect(await (await invoke(name, "0")).json()).toBe("two");
      const first = await eventually("the first invocation's outcome", async () => {
        const view = (await (await fetch(`${s.base}/v1/invocations/${id}`)).json()) as { status: string; body?: string; version?: string };
        return view.status === "running" || view.status === "queued" ? undefined : view;
      });
      expect(first).toMatchObject({ status: "ok", version: "1" });
      expect(JSON.parse(Buffer.from(first.body ?? "", "base64").toString())).toBe("one");
      expect(await (await invoke(`${name}@1`, "0")).json()).toBe("one");
      expect(await (await invoke(`${name}@blue`, "0")).json()).toBe("two");
      expect(await (await invoke(`${name}@2`, "0")).json()).toBe("two");
      const taken = await deploy(name, pythonFn("def handler(event, context):\n    return 3\n", { version: "blue" }));
      expect(taken.status).toBe(409);
      expect(await codeOf(taken)).toBe("version_exists");
      const read = (await (await fetch(`${s.base}/v1/functions/${name}`)).json()) as { latest: string; versions: { version: string }[] };
      expect(read.latest).toBe("blue");
      expect(read.versions.map((v) => v.version)).toEqual(["1", "blue"]);
    }, 90_000);

    it("carries no state from one invocation to the next: a global, a file in /tmp, a daemon", async () => {
      const name = fresh("state");
      const code = [
        "import os, subprocess",
        "count = 0",
        "def sleepers():",
        "    found = 0",
        "    for pid in filter(str.isdigit, os.listdir('/proc')):",
        "        try:",
        "            found += open('/proc/%s/cmdline' % pid, 'rb').read().startswith(b'sleep')",
        "        except OSError:",
        "            pass",
        "    return found",
        "def handler(event, context):",
        "    global count",
        "    count += 1",
        "    before = {'count': count, 'tmp': os.path.exists('/tmp/warren-marker'), 'sleepers': sleepers()}",
        "    open('/tmp/warren-marker', 'w').write('left behind')",
        "    subprocess.Popen(['sleep', '1000'], start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)",
        "    return before",
        "",
      ].join("\n");
      expect((await deploy(name, pythonFn(code))).status).toBe(201);
      for (let i = 0; i < 3; i += 1) {
        const invoked = await invoke(name, "{}");
        expect(invoked.status).toBe(200);
        expect(await invoked.json()).toEqual({ count: 1, tmp: false, sleepers: 0 });
      }
    }, 60_000);

    it("cancels a sync invocation whose caller went away", async () => {
      const name = fresh("abandoned");
      expect((await deploy(name, pythonFn("import time\ndef handler(event, context):\n    time.sleep(600)\n"))).status).toBe(201);
      const before = s.invoked.length;
      const caller = new AbortController();
      void fetch(`${s.base}/v1/functions/${name}/invoke`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}", signal: caller.signal }).catch(() => undefined);
      const id = await eventually("the invocation handed to the runtime", () => s.invoked[before]);
      caller.abort();
      const view = await eventually("the invocation cancelled", async () => {
        const seen = (await (await fetch(`${s.base}/v1/invocations/${id}`)).json()) as { status: string };
        return seen.status === "running" ? undefined : seen;
      });
      expect(view.status).toBe("cancelled");
    }, 60_000);

    it("never lets a handler write a header: a forged response line with a CR LF content type is answered as bytes", async () => {
      const name = fresh("forger");
      const code = [
        "import os, sys",
        "def handler(event, context):",
        "    fd = sys.modules['__main__'].RESPONSE_FD",
        "    os.write(fd, b'{\"ok\": true, \"contentType\": \"text/html\\\\r\\\\nx-evil: 1\"}\\n<b>forged</b>')",
        "    os._exit(0)",
        "",
      ].join("\n");
      expect((await deploy(name, pythonFn(code))).status).toBe(201);
      const forged = await invoke(name, "{}");
      expect(forged.status).toBe(200);
      expect(forged.headers.get("x-evil")).toBeNull();
      expect(forged.headers.get("content-type")).toBe("application/octet-stream");
      expect(await forged.text()).toBe("<b>forged</b>");
    }, 60_000);

    it("answers a handler past its memory limit 502 function_memory_exceeded", async () => {
      const name = fresh("hog");
      expect((await deploy(name, pythonFn("def handler(event, context):\n    blocks = []\n    while True:\n        blocks.append(bytearray(16 * 1024 * 1024))\n", { limits: { ...LIMITS, memoryMb: 64 } }))).status).toBe(201);
      const hog = await invoke(name, "{}");
      expect(hog.status).toBe(502);
      expect(await codeOf(hog)).toBe("function_memory_exceeded");
    }, 60_000);

    it("runs a Node.js handler, and ?logs=true has what it printed", async () => {
      const name = fresh("node");
      const code = "exports.handler = async (event, context) => { console.log('seen', event.n); return { n: event.n + 1 }; };\n";
      const deployed = await deploy(name, { language: "javascript", handler: "main.handler", files: [{ path: "main.js", content: code }], limits: LIMITS });
      expect(deployed.status).toBe(201);
      const invoked = await invoke(name, JSON.stringify({ n: 41 }), { "content-type": "application/json" }, "?logs=true");
      expect(invoked.status).toBe(200);
      expect(await invoked.json()).toEqual({ n: 42 });
      const logs = JSON.parse(Buffer.from(invoked.headers.get("x-warren-logs") ?? "", "base64").toString("utf8")) as { stdout: string; stderr: string };
      expect(`${logs.stdout}${logs.stderr}`).toContain("seen 41");
    }, 60_000);

    it("POSTs an async invocation's result to its callbackUrl, and refuses a callbackUrl the policy refuses", async () => {
      const name = fresh("calls");
      expect((await deploy(name, pythonFn("def handler(event, context):\n    return 'called back'\n"))).status).toBe(201);
      const received: Record<string, unknown>[] = [];
      const receiver = createServer((request: IncomingMessage, response) => {
        const chunks: Buffer[] = [];
        request.on("data", (chunk: Buffer) => chunks.push(chunk));
        request.on("end", () => {
          received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>);
          response.end("ok");
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
      try {
        const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
        const queued = await invoke(name, "{}", { "content-type": "application/json" }, `?async=true&callbackUrl=${encodeURIComponent(url)}`);
        expect(queued.status).toBe(202);
        const { id } = (await queued.json()) as { id: string };
        const posted = await eventually("the callback", () => received.find((body) => body.id === id));
        expect(posted).toMatchObject({ id, status: "completed", function: { kind: "invoke", name, invocation: { status: "ok" } } });
        expect(runResultSchema.safeParse(posted).success).toBe(true);
        const body = (posted.function as { invocation: { body: string } }).invocation.body;
        expect(JSON.parse(Buffer.from(body, "base64").toString())).toBe("called back");
        expect((await invoke(name, "{}", { "content-type": "application/json", "x-warren-callback-url": "http://169.254.169.254/latest" }, "?async=true")).status).toBe(400);
        expect((await invoke(name, "{}", { "content-type": "application/json" }, `?callbackUrl=${encodeURIComponent("file:///etc/passwd")}`)).status).toBe(400);
      } finally {
        receiver.closeAllConnections();
        await new Promise<void>((resolve) => receiver.close(() => resolve()));
      }
    }, 60_000);

    it("deletes a function: gone from the list, its invocations 404, and a new deploy of the name starts past the old numbers", async () => {
      const name = fresh("gone");
      expect((await deploy(name, pythonFn("def handler(event, context):\n    return 1\n"))).status).toBe(201);
      const deleted = await fetch(`${s.base}/v1/functions/${name}`, { method: "DELETE" });
      expect(deleted.status).toBe(200);
      expect(await deleted.json()).toEqual({ name, deleted: true });
      // Every worker is told: its pools of the function drain.
      await eventually("the runtime told to retire it", () => (s.retired.includes(name) ? true : undefined));
      expect((await invoke(name, "{}")).status).toBe(404);
      const listed = (await (await fetch(`${s.base}/v1/functions`)).json()) as { name: string }[];
      expect(listed.map((fn) => fn.name)).not.toContain(name);
      const again = await deploy(name, pythonFn("def handler(event, context):\n    return 2\n"));
      expect(await again.json()).toMatchObject({ number: 2, version: "2" });
      expect(await (await invoke(name, "{}")).json()).toBe(2);
    }, 60_000);
  });

  describe(`listing functions in pages (${label})`, () => {
    let s: FnServer;
    beforeAll(async () => {
      s = await listen(await open({}), { apiKeys: ["key-pages"] });
    });
    afterAll(async () => {
      await s?.close();
    });

    it("pages GET /v1/functions by name with ?limit and ?after, naming the next page in X-Warren-Next-Cursor and Link; bad ones are a 400", async () => {
      const auth = as("key-pages");
      const names = ["p-c", "p-a", "p-b"];
      for (const name of names) {
        const put = await fetch(`${s.base}/v1/functions/${name}`, { method: "PUT", headers: { "content-type": "application/json", ...auth }, body: JSON.stringify(pythonFn("def handler(event, context):\n    return 1\n")) });
        expect(put.status).toBe(201);
      }
      const first = await fetch(`${s.base}/v1/functions?limit=2`, { headers: auth });
      expect(((await first.json()) as { name: string }[]).map((fn) => fn.name)).toEqual(["p-a", "p-b"]);
      expect(first.headers.get("x-warren-next-cursor")).toBe("p-b");
      expect(first.headers.get("link")).toBe('</v1/functions?limit=2&after=p-b>; rel="next"');
      const last = await fetch(`${s.base}/v1/functions?limit=2&after=p-b`, { headers: auth });
      expect(((await last.json()) as { name: string }[]).map((fn) => fn.name)).toEqual(["p-c"]);
      expect(last.headers.get("x-warren-next-cursor")).toBeNull();
      expect(((await (await fetch(`${s.base}/v1/functions`, { headers: auth })).json()) as unknown[]).length).toBe(3);
      for (const query of ["limit=0", "limit=1001", "limit=abc", "limit=-1", "after=..%2F..", "after="]) {
        const bad = await fetch(`${s.base}/v1/functions?${query}`, { headers: auth });
        expect(bad.status, query).toBe(400);
        expect(await codeOf(bad)).toBe("invalid_request");
      }
    }, 60_000);
  });

  describe(`functions with API keys (${label})`, () => {
    let s: FnServer;
    beforeAll(async () => {
      s = await listen(await open({}), { apiKeys: KEYS });
    });
    afterAll(async () => {
      await s?.close();
    });

    it("belong to the key that deployed them: another key gets 404 everywhere and may deploy the same name as its own", async () => {
      const name = fresh("mine");
      const put = (key: string, code: string) => fetch(`${s.base}/v1/functions/${name}`, { method: "PUT", headers: { "content-type": "application/json", ...as(key) }, body: JSON.stringify(pythonFn(code)) });
      expect((await put("key-alice", "def handler(event, context):\n    return 'alice'\n")).status).toBe(201);
      const call = (key: string, query = "") => fetch(`${s.base}/v1/functions/${name}/invoke${query}`, { method: "POST", headers: { "content-type": "application/json", ...as(key) }, body: "{}" });
      expect(await (await call("key-alice")).json()).toBe("alice");
      expect((await call("key-bob")).status).toBe(404);
      expect((await fetch(`${s.base}/v1/functions/${name}`, { headers: as("key-bob") })).status).toBe(404);
      expect((await fetch(`${s.base}/v1/functions/${name}`, { method: "DELETE", headers: as("key-bob") })).status).toBe(404);
      expect(await (await fetch(`${s.base}/v1/functions`, { headers: as("key-bob") })).json()).toEqual([]);
      const queued = (await (await call("key-alice", "?async=true")).json()) as { id: string };
      expect((await fetch(`${s.base}/v1/invocations/${queued.id}`, { headers: as("key-bob") })).status).toBe(404);
      expect((await fetch(`${s.base}/v1/invocations/${queued.id}`, { headers: as("key-alice") })).status).toBe(200);
      expect((await fetch(`${s.base}/v1/functions`)).status).toBe(401);
      // Bob's own function of the same name is his, and never runs Alice's code.
      expect((await put("key-bob", "def handler(event, context):\n    return 'bob'\n")).status).toBe(201);
      expect(await (await call("key-bob")).json()).toBe("bob");
      expect(await (await call("key-alice")).json()).toBe("alice");
    }, 60_000);

    it("shows the handler the name its key deployed (context), in both shims, not the runtime's key-scoped name", async () => {
      const deployAs = (name: string, body: unknown) => fetch(`${s.base}/v1/functions/${name}`, { method: "PUT", headers: { "content-type": "application/json", ...as("key-alice") }, body: JSON.stringify(body) });
      const callAs = (name: string) => fetch(`${s.base}/v1/functions/${name}/invoke`, { method: "POST", headers: { "content-type": "application/json", ...as("key-alice") }, body: "{}" });
      const py = fresh("pyname");
      expect((await deployAs(py, pythonFn("def handler(event, context):\n    return [context.function_name, context.function_version]\n"))).status).toBe(201);
      expect(await (await callAs(py)).json()).toEqual([py, "1"]);
      const js = fresh("jsname");
      const node = { language: "javascript", handler: "main.handler", files: [{ path: "main.js", content: "exports.handler = async (event, context) => [context.functionName, context.functionVersion];\n" }], limits: LIMITS };
      expect((await deployAs(js, node)).status).toBe(201);
      expect(await (await callAs(js)).json()).toEqual([js, "1"]);
    }, 60_000);
  });

  describe(`the function store's caps (${label})`, () => {
    let s: FnServer;
    beforeAll(async () => {
      s = await listen(await open({ WARREN_FUNCTION_MAX_BYTES: String(24 * 1024), WARREN_FUNCTION_STORE_BYTES: String(40 * 1024) }), {});
    });
    afterAll(async () => {
      await s?.close();
    });

    it("refuses a version past one function's cap with 413 and past the store's with 507, and a delete frees the room", async () => {
      const padded = (kib: number) => pythonFn(`# ${"x".repeat(kib * 1024)}\ndef handler(event, context):\n    return 1\n`);
      const put = (name: string, body: unknown) => fetch(`${s.base}/v1/functions/${name}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
      const a = fresh("capa");
      const b = fresh("capb");
      expect((await put(a, padded(10))).status).toBe(201);
      const tooBig = await put(a, padded(14));
      expect(tooBig.status).toBe(413);
      expect(await codeOf(tooBig)).toBe("function_too_large");
      expect((await put(b, padded(12))).status).toBe(201);
      const full = await put(fresh("capc"), padded(10));
      expect(full.status).toBe(507);
      expect(await codeOf(full)).toBe("function_store_full");
      expect((await fetch(`${s.base}/v1/functions/${a}`, { method: "DELETE" })).status).toBe(200);
      expect((await put(fresh("capd"), padded(10))).status).toBe(201);
    }, 60_000);
  });
}
