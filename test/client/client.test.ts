// The client (src/client/) against a real server: the app served by Node on loopback, the embedded queue, a real worker in the real sandbox.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorSchema, functionListSchema, functionSchema, imageInfoSchema, invocationSchema, languageSchema, submittedSchema, versionSummarySchema } from "../../src/run/api-answers.js";
import { runEventDataSchemas } from "../../src/run/event-schema.js";
import { runResultSchema } from "../../src/run/result-schema.js";
import { createFunctionRuntime } from "../../src/worker/functions/runtime.js";
import { invocationBody, isPending, outputBytes, WarrenApiError, WarrenClient, WarrenConnectionError, WarrenResponseError, type RunEvent, type RunRequest } from "../../src/client/index.js";
import { eventually } from "../helpers/eventually.js";
import { sandbox } from "../helpers/sandbox.js";
import { served, type Served } from "./served.js";

const KEY = "client-key";
const python = (code: string, extra: Partial<RunRequest> = {}): RunRequest => ({ language: "python", files: [{ path: "main.py", content: code }], ...extra });

let s: Served;
let runtime: ReturnType<typeof createFunctionRuntime>;
let warren: WarrenClient;
beforeAll(async () => {
  runtime = createFunctionRuntime(await sandbox());
  // A short ?wait=true, so that a run of a second outlasts it (202) and submitAndWait must follow the run's events.
  s = await served({ apiKeys: [KEY], waitMs: 300 }, runtime);
  warren = new WarrenClient({ url: s.url, apiKey: KEY });
});
afterAll(async () => {
  await s?.close();
  await runtime?.close();
});

/** Every event of a run, in order. */
async function collect(events: AsyncIterable<RunEvent>): Promise<RunEvent[]> {
  const all: RunEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe("WarrenClient: the server", () => {
  it("health, ready, languages and images, as the server's schemas say", async () => {
    expect(await warren.health()).toEqual({ ok: true });
    expect(await warren.ready()).toEqual({ ok: true });
    const languages = languageSchema.strict().array().parse(await warren.languages());
    expect(languages.find((language) => language.id === "python")?.extensions).toContain(".py");
    const images = imageInfoSchema.strict().array().parse(await warren.images());
    expect(images.map((image) => image.name)).toContain("host");
  });
});

describe("WarrenClient: runs", () => {
  it("submit, wait (through the events), get", async () => {
    const submitted = submittedSchema.strict().parse(await warren.runs.submit(python("print(6 * 7)")));
    const result = await warren.runs.wait(submitted.id);
    expect(runResultSchema.parse(result)).toMatchObject({ id: submitted.id, status: "completed", verdict: "accepted", run: { stdout: "42\n" } });
    expect(await warren.runs.get(submitted.id)).toEqual(result);
  });

  it("submitAndWait: 200 within the server's wait, and past it (202) follows the run to its end", async () => {
    expect(await warren.runs.submitAndWait(python("print(input())", { stdin: "hi" }))).toMatchObject({ status: "completed", verdict: "accepted", run: { stdout: "hi\n" } });
    const slow = await warren.runs.submitAndWait(python("import time; time.sleep(1.5); print('late')"));
    expect(slow).toMatchObject({ status: "completed", verdict: "accepted", run: { stdout: "late\n" } });
  });

  it("cancel: a running run ends cancelled", async () => {
    const { id } = await warren.runs.submit(python("import time; print('up', flush=True); time.sleep(40)", { limits: { wallTimeMs: 50_000 } }));
    for await (const event of warren.runs.events(id)) if (event.type === "output") break;
    expect((await warren.runs.cancel(id)).status).toBe("cancelled");
    expect(await warren.runs.wait(id)).toMatchObject({ status: "cancelled" });
  });

  it("events: typed as the server sends them, in order, ending with the result; resumed after lastEventId", async () => {
    const { id } = await warren.runs.submit(python("import sys\nfor i in range(3): print(i, flush=True)\nsys.stdout.buffer.write(b'\\xff\\n')"));
    const events = await collect(warren.runs.events(id));
    for (const event of events) {
      if (event.type === "result") runResultSchema.parse(event.result);
      else {
        const { type, seq, ...data } = event;
        expect(seq).toBeGreaterThan(0);
        runEventDataSchemas[type].strict().parse(data);
      }
    }
    const numbered = events.filter((event) => event.type !== "result");
    expect(numbered.map((event) => event.seq)).toEqual(numbered.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ type: "result", result: { id, verdict: "accepted" } });
    const output = events.flatMap((event) => (event.type === "output" && event.stream === "stdout" ? [Buffer.from(outputBytes(event))] : []));
    expect(Buffer.concat(output)).toEqual(Buffer.from("0\n1\n2\n\xff\n", "latin1"));

    const resumed = await collect(warren.runs.events(id, { lastEventId: 3 }));
    expect(resumed.map((event) => (event.type === "result" ? "result" : event.seq))).toEqual([...numbered.slice(3).map((event) => event.seq), "result"]);
  });

  it("events: a stream that breaks is resumed with Last-Event-ID, no event lost or repeated", async () => {
    const { id } = await warren.runs.submit(python("for i in range(5): print(i, flush=True)"));
    const whole = await collect(warren.runs.events(id));
    const asked: (string | null)[] = [];
    let broken = false;
    // The first stream is cut after its second event, as a dropped connection is (undici's "terminated").
    const cutting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith("/events")) return response;
      asked.push(new Headers(init?.headers).get("last-event-id"));
      if (broken) return response;
      broken = true;
      return new Response(cutAfterEvents(response.body!, 2), { status: response.status, headers: response.headers });
    };
    const client = new WarrenClient({ url: s.url, apiKey: KEY, fetch: cutting });
    expect(await collect(client.runs.events(id))).toEqual(whole);
    expect(asked).toEqual([null, "2"]);
    // Without reconnects the break is the caller's, named as the server's being out of reach.
    broken = false;
    await expect(collect(client.runs.events(id, { reconnects: 0 }))).rejects.toBeInstanceOf(WarrenConnectionError);
  });

  it("events: leaving the loop early closes the stream on the server", async () => {
    const { id } = await warren.runs.submit(python("import time; print('up', flush=True); time.sleep(40)", { limits: { wallTimeMs: 50_000 } }));
    const streams = async () => (await s.t.metrics.registry.getSingleMetric("warren_event_streams")!.get()).values[0]?.value ?? 0;
    for await (const event of warren.runs.events(id)) {
      expect(await streams()).toBe(1);
      if (event.type === "output") break;
    }
    await eventually("the server to see the client go", async () => ((await streams()) === 0 ? true : undefined));
    await warren.runs.cancel(id);
  });
});

describe("WarrenClient: errors", () => {
  it("the API's error shape as WarrenApiError: status, code, message, details", async () => {
    const bad = await warren.runs.submit({ language: "python", files: [] }).catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(WarrenApiError);
    expect(bad).toMatchObject({ status: 400, code: "invalid_request", details: expect.any(Array) });
    const unknown = await warren.runs.submit(python("", { language: "cobol-85" })).catch((error: unknown) => error);
    expect(unknown).toMatchObject({ status: 400, code: "invalid_request", message: expect.stringContaining("cobol-85") });
    expect(await warren.runs.get("no-such-run").catch((error: unknown) => error)).toMatchObject({ status: 404, code: "not_found" });
    await expect(collect(warren.runs.events("no-such-run"))).rejects.toMatchObject({ status: 404, code: "not_found" });
    const stranger = new WarrenClient({ url: s.url, apiKey: "not-a-key" });
    const refused = (await stranger.languages().catch((error: unknown) => error)) as WarrenApiError;
    expect(refused).toMatchObject({ status: 401, code: "unauthorized" });
    errorSchema.parse({ error: { code: refused.code, message: refused.message, details: refused.details } });
  });

  it("a server out of reach: WarrenConnectionError naming the URL", async () => {
    const nowhere = new WarrenClient({ url: "http://127.0.0.1:9/" });
    const error = await nowhere.health().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WarrenConnectionError);
    expect((error as WarrenConnectionError).message).toContain("http://127.0.0.1:9");
    expect(() => new WarrenClient({ url: "127.0.0.1:8080" })).toThrow(/http\(s\) URL/);
  });

  it("reads no answer past maxResponseBytes, as a whole answer or as one event", async () => {
    const small = new WarrenClient({ url: s.url, apiKey: KEY, maxResponseBytes: 4096 });
    const { id } = await warren.runs.submit(python("print('x' * 100000)"));
    await warren.runs.wait(id);
    await expect(small.runs.get(id)).rejects.toMatchObject({ code: "response_too_large" });
    await expect(collect(small.runs.events(id))).rejects.toBeInstanceOf(WarrenResponseError);
    expect(await small.health()).toEqual({ ok: true });
  });
});

describe("WarrenClient: functions", () => {
  it("lists functions a page at a time (listPage: limit, after, the next cursor)", async () => {
    const code = { language: "python", handler: "main.handler", files: [{ path: "main.py", content: "def handler(event, context):\n    return 1\n" }] };
    for (const name of ["page-b", "page-a", "page-c"]) expect(isPending(await warren.functions.deploy(name, code))).toBe(false);
    const first = await warren.functions.listPage({ limit: 2 });
    expect(first.functions.map((fn) => fn.name)).toEqual(["page-a", "page-b"]);
    expect(first.next).toBe("page-b");
    const last = await warren.functions.listPage({ limit: 2, after: first.next! });
    expect(last.functions.map((fn) => fn.name)).toEqual(["page-c"]);
    expect(last.next).toBeUndefined();
    for (const name of ["page-a", "page-b", "page-c"]) await warren.functions.delete(name);
  });


  it("deploy, list, get, invoke (headers as fields), invoke async and its invocation, delete", async () => {
    const deployed = await warren.functions.deploy("add", {
      language: "python",
      handler: "main.handler",
      files: [{ path: "main.py", content: "def handler(event, context):\n    print('adding', flush=True)\n    return {'sum': event['a'] + event['b']}\n" }],
    });
    if (isPending(deployed)) throw new Error("the deploy outlasted the server's wait");
    expect(versionSummarySchema.strict().parse(deployed)).toMatchObject({ name: "add", version: "1", number: 1 });
    expect(functionListSchema.parse(await warren.functions.list()).map((fn) => fn.name)).toEqual(["add"]);
    expect(functionSchema.parse(await warren.functions.get("add"))).toMatchObject({ latest: "1", versions: [{ number: 1 }] });

    const answer = await warren.functions.invoke("add", { a: 2, b: 40 }, { logs: true });
    if (isPending(answer)) throw new Error("the invocation outlasted the server's wait");
    expect(JSON.parse(Buffer.from(answer.body).toString())).toEqual({ sum: 42 });
    expect(answer).toMatchObject({ functionVersion: "1", contentType: expect.stringMatching(/^application\/json/), cold: expect.any(Boolean) });
    expect(`${answer.logs?.stdout}${answer.logs?.stderr}`).toContain("adding\n");
    expect(answer.invocationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.durationMs).toBeGreaterThan(0);
    expect(answer.handlerMs).toBeLessThanOrEqual(answer.durationMs);
    expect(answer.memoryKb).toBeGreaterThan(0);
    expect(answer.worker).toMatch(/^[0-9a-f-]{36}$/);

    const fault = (await warren.functions.invoke("add", { a: 1 }, { version: 1 }).catch((error: unknown) => error)) as WarrenApiError;
    expect(fault).toMatchObject({ status: 502, code: "function_error", details: { type: "KeyError" } });
    expect(fault.invocationId).toMatch(/^[0-9a-f-]{36}$/);

    const queued = await warren.functions.invokeAsync("add", { a: 1, b: 1 });
    const invocation = await eventually("the invocation to finish", async () => {
      const got = invocationSchema.strict().parse(await warren.invocations.get(queued.id));
      return got.status === "queued" || got.status === "running" ? undefined : got;
    });
    expect(invocation.status).toBe("ok");
    expect(JSON.parse(Buffer.from(invocationBody(invocation)!).toString())).toEqual({ sum: 2 });

    expect(await warren.functions.delete("add")).toEqual({ name: "add", deleted: true });
    await expect(warren.functions.get("add")).rejects.toMatchObject({ status: 404, code: "not_found" });
  }, 60_000);

  it("a deploy that cannot start: 400 function_cannot_start with the import's output", async () => {
    const refused = await warren.functions.deploy("broken", { language: "python", handler: "main.handler", files: [{ path: "main.py", content: "import not_a_module_anywhere\n" }] }).catch((error: unknown) => error);
    expect(refused).toMatchObject({ status: 400, code: "function_cannot_start", details: { stage: "load", output: expect.stringContaining("not_a_module_anywhere") } });
  }, 60_000);
});

/** `body` up to the end of its `count`th event, then an error as a dropped connection gives. */
function cutAfterEvents(body: ReadableStream<Uint8Array>, count: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let ends = 0;
  let previous = -1;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      for (let i = 0; i < value.length; i++) {
        if (value[i] === 10 && previous === 10 && ++ends === count) {
          controller.enqueue(value.subarray(0, i + 1));
          await reader.cancel();
          return controller.error(new TypeError("terminated"));
        }
        previous = value[i]!;
      }
      controller.enqueue(value);
    },
    cancel: () => reader.cancel(),
  });
}

/** Type-level checks, compiled by `npm run typecheck` (never called): the client's types are the server's schemas. */
export function typeChecks(client: WarrenClient): void {
  // @ts-expect-error a run request has no `timeLimit` (its limits are `limits.wallTimeMs`, …)
  void client.runs.submit({ language: "python", files: [{ path: "main.py", content: "" }], timeLimit: 5 });
  // @ts-expect-error `encoding` is utf8 or base64
  void client.runs.submit({ language: "python", files: [{ path: "main.py", content: "", encoding: "hex" }] });
  // @ts-expect-error a deploy's mode is handler or process
  void client.functions.deploy("f", { language: "python", files: [{ path: "main.py", content: "" }], mode: "daemon" });
  void client.runs.get("id").then((result) => {
    // @ts-expect-error "ok" is a stage's status, not a verdict
    const verdict: typeof result.verdict = "ok";
    // @ts-expect-error a RunResult has no `stdout` of its own (its stages do)
    return [verdict, result.stdout];
  });
}
