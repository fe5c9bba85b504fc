import net from "node:net";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiOptions } from "../../src/api/context.js";
import type { JobQueue } from "../../src/queue/index.js";
import { runResultSchema } from "../../src/run/result-schema.js";
import { eventually } from "../helpers/eventually.js";
import { allEvents, readSse, readUntil, type SseEvent } from "../helpers/sse.js";
import { post, python, testApp, type TestApp } from "./fixture.js";

/** A real HTTP server on the app, on a free loopback port. */
export interface EventServer {
  readonly base: string;
  readonly t: TestApp;
  close(): Promise<void>;
}

/** `queue`: makes the queue under test (with WARREN_RESULT_MAX_BYTES = `resultMaxBytes` when given). */
export type OpenQueue = (env: Record<string, string>) => Promise<JobQueue>;

async function listen(queue: JobQueue, options: Partial<ApiOptions>): Promise<EventServer> {
  const t = await testApp(options, { queue });
  const server = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    t,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await t.close();
    },
  };
}

const KEYS = ["key-alice", "key-bob"];
const as = (key: string) => ({ authorization: `Bearer ${key}` });

async function submit(base: string, body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(`${base}/v1/runs`, post(body, headers));
  expect(response.status).toBe(202);
  return ((await response.json()) as { id: string }).id;
}

const data = (event: SseEvent) => JSON.parse(event.data) as Record<string, unknown>;
const stdoutText = (events: readonly SseEvent[]) =>
  events
    .filter((event) => event.event === "output")
    .map(data)
    .filter((event) => event.stream === "stdout")
    .map((event) => Buffer.from(event.data as string, event.encoding as BufferEncoding).toString("utf8"))
    .join("");

/** The SSE contract of GET /v1/runs/:id/events, against a real server on the queue `open` makes. */
export function eventsContract(name: string, open: OpenQueue): void {
  describe(`GET /v1/runs/:id/events (${name})`, () => {
    let s: EventServer;
    let keyed: EventServer;
    beforeAll(async () => {
      s = await listen(await open({}), { eventStallMs: 1_000 });
      keyed = await listen(await open({}), { apiKeys: KEYS });
    });
    afterAll(async () => {
      await s?.close();
      await keyed?.close();
    });

    it("streams a program's output while it runs (fetch reader), then its status and the final RunResult", async () => {
      // The program prints, then waits far longer than the test needs: the line must arrive while it is still running.
      const id = await submit(s.base, python("import time\nprint('first line', flush=True)\ntime.sleep(50)\nprint('never')", { limits: { wallTimeMs: 60_000 } }));
      const response = await fetch(`${s.base}/v1/runs/${id}/events`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const seen: SseEvent[] = [];
      for await (const event of readSse(response)) {
        seen.push(event);
        if (stdoutText(seen) === "first line\n") break;
      }
      const now = runResultSchema.parse(await (await fetch(`${s.base}/v1/runs/${id}`)).json());
      expect(now.status).toBe("running");
      expect(seen.map((event) => event.event)).toEqual(["status", "status", "stage_started", "output"]);
      expect(seen.slice(0, 3).map(data)).toEqual([{ status: "queued" }, { status: "running" }, { stage: "run" }]);
      expect(seen.map((event) => event.id)).toEqual(["1", "2", "3", "4"]);
      // Resumed after what was seen: the rest, to the cancel and the result.
      expect((await fetch(`${s.base}/v1/runs/${id}`, { method: "DELETE" })).status).toBe(200);
      const rest = await allEvents(await fetch(`${s.base}/v1/runs/${id}/events`, { headers: { "last-event-id": "4" } }));
      expect(rest.at(-2)).toMatchObject({ event: "status", data: '{"status":"cancelled"}' });
      expect(rest.at(-1)?.event).toBe("result");
      expect(rest.at(-1)?.id).toBeUndefined();
      expect(runResultSchema.parse(JSON.parse(rest.at(-1)?.data as string))).toMatchObject({ id, status: "cancelled" });
      expect(rest.every((event) => event.id === undefined || Number(event.id) > 4)).toBe(true);
    }, 60_000);

    it("replays a finished run's whole log then its result at once, and from Last-Event-ID only what came after", async () => {
      const code = "import sys\nprint('out')\nprint('err', file=sys.stderr)\nsys.stdout.buffer.write(b'\\xff\\xfe')";
      const id = await submit(s.base, { ...python(code), tests: [{ name: "a" }, { name: "b" }] });
      const first = await allEvents(await fetch(`${s.base}/v1/runs/${id}/events`));
      const types = first.map((event) => event.event);
      expect(types.slice(0, 3)).toEqual(["status", "status", "stage_started"]);
      expect(types.filter((type) => type === "test_finished")).toHaveLength(2);
      expect(types.slice(-2)).toEqual(["status", "result"]);
      const verdicts = first.filter((event) => event.event === "test_finished").map(data);
      expect(verdicts).toMatchObject([
        { stage: "test", index: 0, name: "a", result: { verdict: "accepted", exitCode: 0 } },
        { stage: "test", index: 1, name: "b", result: { verdict: "accepted" } },
      ]);
      expect(verdicts[0]?.result).not.toHaveProperty("stdout");
      const outputs = first.filter((event) => event.event === "output").map(data);
      expect(outputs.filter((event) => event.stream === "stderr").map((event) => event.data)).toEqual(["err\n", "err\n"]);
      // Not UTF-8: base64, bytes as they were.
      const binary = outputs.filter((event) => event.encoding === "base64");
      expect(binary.length).toBeGreaterThan(0);
      expect(Buffer.concat(binary.map((event) => Buffer.from(event.data as string, "base64"))).includes(Buffer.from([0xff, 0xfe]))).toBe(true);
      const result = runResultSchema.parse(JSON.parse(first.at(-1)?.data as string));
      expect(result).toMatchObject({ id, status: "completed", verdict: "accepted" });

      const again = await allEvents(await fetch(`${s.base}/v1/runs/${id}/events`));
      expect(again).toEqual(first);
      const ids = first.flatMap((event) => (event.id === undefined ? [] : [Number(event.id)]));
      const middle = ids[Math.floor(ids.length / 2)] as number;
      const resumed = await allEvents(await fetch(`${s.base}/v1/runs/${id}/events`, { headers: { "last-event-id": String(middle) } }));
      expect(resumed).toEqual(first.filter((event) => event.id === undefined || Number(event.id) > middle));
      // From the last id: only the result.
      const last = await allEvents(await fetch(`${s.base}/v1/runs/${id}/events?lastEventId=${ids.at(-1)}`));
      expect(last.map((event) => event.event)).toEqual(["result"]);
    }, 60_000);

    it("serves an EventSource client to the end of the run", async () => {
      const id = await submit(s.base, python("for i in range(3): print('line', i, flush=True)"));
      const source = new EventSource(`${s.base}/v1/runs/${id}/events`);
      const received: { type: string; data: string; id: string }[] = [];
      const result = await new Promise<string>((resolve, reject) => {
        for (const type of ["status", "stage_started", "output", "stage_finished"]) {
          source.addEventListener(type, (event) => received.push({ type, data: event.data, id: event.lastEventId }));
        }
        source.addEventListener("result", (event) => {
          source.close();
          resolve(event.data);
        });
        source.onerror = (error) => {
          source.close();
          reject(new Error(`EventSource failed: ${error.message}`));
        };
      });
      expect(runResultSchema.parse(JSON.parse(result))).toMatchObject({ id, status: "completed", run: { stdout: "line 0\nline 1\nline 2\n" } });
      const text = received.filter((event) => event.type === "output").map((event) => JSON.parse(event.data).data as string).join("");
      expect(text).toBe("line 0\nline 1\nline 2\n");
      expect(received.at(-1)).toMatchObject({ type: "status", data: '{"status":"completed"}' });
    }, 60_000);

    it("answers 404 for an unknown run and 400 for a Last-Event-ID it never sent", async () => {
      const unknown = await fetch(`${s.base}/v1/runs/no-such-run/events`);
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("not_found");
      const id = await submit(s.base, python("print(1)"));
      for (const bad of ["-1", "abc", "1.5", "9".repeat(40)]) {
        const answer = await fetch(`${s.base}/v1/runs/${id}/events`, { headers: { "last-event-id": bad } });
        expect(answer.status).toBe(400);
        expect(((await answer.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
      }
    });

    it("with API keys, shows a run's events to the key that submitted it only: 404 for another key", async () => {
      const id = await submit(keyed.base, python("print('mine')"), as("key-alice"));
      const other = await fetch(`${keyed.base}/v1/runs/${id}/events`, { headers: as("key-bob") });
      expect(other.status).toBe(404);
      // The same answer as for a run that never was: nothing tells another key the run exists.
      const unknown = await fetch(`${keyed.base}/v1/runs/no-such-run/events`, { headers: as("key-bob") });
      expect(unknown.status).toBe(404);
      expect(JSON.stringify(await other.json()).replace(id, "no-such-run")).toBe(JSON.stringify(await unknown.json()));
      expect((await fetch(`${keyed.base}/v1/runs/${id}/events`)).status).toBe(401);
      const own = await allEvents(await fetch(`${keyed.base}/v1/runs/${id}/events`, { headers: as("key-alice") }));
      expect(runResultSchema.parse(JSON.parse(own.at(-1)?.data as string)).run?.stdout).toBe("mine\n");
    }, 60_000);

    it("leaves no watch and no open stream behind when a client goes away mid-stream", async () => {
      const id = await submit(s.base, python("import time\nprint('hello', flush=True)\ntime.sleep(50)", { limits: { wallTimeMs: 60_000 } }));
      const before = s.t.queue.events.watchers;
      const clients = Array.from({ length: 5 }, () => new AbortController());
      await Promise.all(
        clients.map(async (client) => {
          await readUntil(await fetch(`${s.base}/v1/runs/${id}/events`, { signal: client.signal }), "output");
        }),
      );
      expect(s.t.queue.events.watchers).toBe(before + 5);
      for (const client of clients) client.abort();
      await eventually("every watch to be released", () => (s.t.queue.events.watchers === before ? true : undefined));
      await eventually("every stream to be closed", async () => ((await s.t.metrics.openEventStreams()) === 0 ? true : undefined));
      await fetch(`${s.base}/v1/runs/${id}`, { method: "DELETE" });
    }, 60_000);

    it("hands a client that reads nothing no more than a few batches, and cuts it", async () => {
      // 12 MiB of output; the client sends its request and never reads.
      const id = await submit(s.base, python("import sys\nfor _ in range(192): sys.stdout.write('x' * 65535 + '\\n')", { limits: { outputKb: 16_384 } }));
      const { port } = new URL(s.base);
      const before = await s.t.metrics.eventStreamBytes();
      const socket = net.connect(Number(port), "127.0.0.1");
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.write(`GET /v1/runs/${id}/events HTTP/1.1\r\nHost: x\r\n\r\n`);
      const result = await eventually("the run to finish", async () => {
        const body = runResultSchema.parse(await (await fetch(`${s.base}/v1/runs/${id}`)).json());
        return body.status === "completed" ? body : undefined;
      });
      expect(result.run?.stdoutTruncated).toBe(false);
      await eventually("the stalled stream to be cut", async () => ((await s.t.metrics.openEventStreams()) === 0 ? true : undefined), 30_000);
      const handed = (await s.t.metrics.eventStreamBytes()) - before;
      // What waited was the log's; the connection was handed batches as the socket took them (its kernel buffers: a few MiB).
      expect(handed).toBeGreaterThan(0);
      expect(handed).toBeLessThan(8 * 2 ** 20);
      expect(s.t.queue.events.watchers).toBe(0);
      // Cut, not ended: what the socket held comes, then the connection closes without the chunked body's end.
      let received = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => (received = Buffer.concat([received.subarray(-64), chunk])));
      await new Promise((resolve) => socket.once("close", resolve));
      expect(received.toString("latin1")).not.toMatch(/\r\n0\r\n\r\n$/);
    }, 90_000);

    it("caps a run's event log: output past WARREN_RESULT_MAX_BYTES is dropped, and a `dropped` event says how much", async () => {
      const small = await listen(await open({ WARREN_RESULT_MAX_BYTES: "4096" }), {});
      try {
        const id = await submit(small.base, python("import sys\nfor i in range(100): print('y' * 999, flush=True)\nprint('end', file=sys.stderr)"));
        const events = await allEvents(await fetch(`${small.base}/v1/runs/${id}/events`));
        const outputBytes = events.filter((event) => event.event === "output").reduce((sum, event) => sum + event.data.length, 0);
        expect(outputBytes).toBeLessThanOrEqual(4096);
        const dropped = events.filter((event) => event.event === "dropped").map(data);
        expect(dropped.length).toBe(2);
        const total = dropped.at(-1) as { events: number; outputBytes: number; limitBytes: number };
        expect(total.limitBytes).toBe(4096);
        expect(total.outputBytes).toBeGreaterThan(100_000 - 4096 * 2);
        // The stage's end, the status and the result still come.
        expect(events.map((event) => event.event).slice(-4)).toEqual(["stage_finished", "dropped", "status", "result"]);
      } finally {
        await small.close();
      }
    }, 60_000);
  });
}
