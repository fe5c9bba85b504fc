import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import type { ApiOptions } from "../../src/api/context.js";
import { attachSessions, type Sessions } from "../../src/api/sessions.js";
import type { JobQueue } from "../../src/queue/index.js";
import { runResultSchema } from "../../src/run/result-schema.js";
import { eventually } from "../helpers/eventually.js";
import { childrenOf } from "../helpers/processes.js";
import { sandbox } from "../helpers/sandbox.js";
import { SessionClient, type SessionMessage } from "../helpers/ws-session.js";
import { python, testApp } from "./fixture.js";

/** A real HTTP server with sessions attached, on a queue whose jobs a real worker runs. */
export interface SessionServer {
  readonly base: string;
  /** The API's queue. */
  readonly queue: JobQueue;
  readonly sessions: Sessions;
  /** Session inputs still held (embedded: open channels; distributed: stdin keys in Redis). */
  inputsLeft(): Promise<number>;
  /** Distributed: the Redis connections open now (a running session's worker holds one for its stdin). */
  readonly connections?: () => Promise<number>;
  /** Distributed: entries of session ID's stdin stream the worker has not read yet; -1 before the stream is made (by the first entry). */
  readonly stdinEntries?: (id: string) => Promise<number>;
  close(): Promise<void>;
}

/** `api`: the API's queue; `worker`: starts the worker that runs its jobs (the same queue embedded, another on the same Redis distributed). */
export interface SessionMode {
  open(): Promise<{
    api: JobQueue;
    startWorker: () => Promise<() => Promise<void>>;
    inputsLeft: () => Promise<number>;
    connections?: () => Promise<number>;
    stdinEntries?: (id: string) => Promise<number>;
  }>;
}

export async function listenSessions(mode: SessionMode, options: Partial<ApiOptions>): Promise<SessionServer> {
  const { api, startWorker, inputsLeft, connections, stdinEntries } = await mode.open();
  const t = await testApp(options, { queue: api, worker: false });
  const stopWorker = await startWorker();
  const server = serve({ fetch: t.app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise<void>((resolve) => server.once("listening", resolve));
  const sessions = attachSessions(server, t.deps);
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    queue: api,
    sessions,
    inputsLeft,
    ...(connections === undefined ? {} : { connections }),
    ...(stdinEntries === undefined ? {} : { stdinEntries }),
    close: async () => {
      await sessions.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopWorker();
      await t.close();
    },
  };
}

const KEYS = ["key-alice", "key-bob"];

/** Doubles each number it reads, a line at a time, until end of input. */
const DOUBLER = "import sys\nprint('ready', flush=True)\nwhile True:\n    line = sys.stdin.readline()\n    if not line: break\n    print(int(line) * 2, flush=True)\nprint('bye', flush=True)";
/** Says it is ready, then waits for end of input. */
const WAITER = "import sys\nprint('ready', flush=True)\nsys.stdin.read()";
/** Says it is ready once its SIGINT handler is in place; the handler writes `INT` (os.write: a print could be one it interrupted), and the program goes on. */
const TRAPS_INT = "import os, signal, time\nsignal.signal(signal.SIGINT, lambda *_: os.write(1, b'INT\\n'))\nprint('ready', flush=True)\nwhile True: time.sleep(1)";
/** Never reads its stdin; SIGINT ends it with exit code 3. */
const DEAF = "import os, signal, time\nsignal.signal(signal.SIGINT, lambda *_: os._exit(3))\nprint('ready', flush=True)\nwhile True: time.sleep(1)";
const PAUSER_C = '#include <stdio.h>\n#include <unistd.h>\nint main(void) { puts("ready"); fflush(stdout); for (;;) pause(); }\n';
const INCREMENTER_C = '#include <stdio.h>\nint main(void) { int x; while (scanf("%d", &x) == 1) { printf("%d\\n", x + 1); fflush(stdout); } puts("done"); return 0; }\n';

const resultOf = (message: SessionMessage) => runResultSchema.parse(message.result);

/** Holders (warren-launch) that are children of this process: the containers of the runs its workers run. */
function holders(): number[] {
  return childrenOf(process.pid).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, "latin1").includes("warren-launch");
    } catch {
      return false;
    }
  });
}

/** The session contract of GET /v1/sessions, against a real server in queue mode `mode`. */
export function sessionsContract(name: string, mode: SessionMode): void {
  describe(`GET /v1/sessions (${name})`, () => {
    let s: SessionServer;
    let keyed: SessionServer;
    beforeAll(async () => {
      s = await listenSessions(mode, { eventStallMs: 1_000 });
      keyed = await listenSessions(mode, { apiKeys: KEYS });
    });
    afterAll(async () => {
      await s?.close();
      await keyed?.close();
    });

    const status = async (id: string) => runResultSchema.parse(await (await fetch(`${s.base}/v1/runs/${id}`)).json()).status;

    it("is interactive: a line in, its answer out, another, then end of input, the exit and a normal close", async () => {
      const client = await SessionClient.open(s.base);
      client.request(python(DOUBLER, { limits: { wallTimeMs: 60_000 } }));
      const id = (await client.message("run")).id as string;
      await client.until("ready", () => (client.stdout() === "ready\n" ? true : undefined));
      // A session is a run: GET /v1/runs/:id shows it.
      expect(await status(id)).toBe("running");
      client.stdin("21\n");
      await client.until("the first answer", () => (client.stdout() === "ready\n42\n" ? true : undefined));
      client.stdin("5\n");
      await client.until("the second answer", () => (client.stdout() === "ready\n42\n10\n" ? true : undefined));
      client.end();
      const result = resultOf(await client.message("result"));
      expect(result).toMatchObject({ id, status: "completed", verdict: "accepted", run: { exitCode: 0, stdout: "ready\n42\n10\nbye\n" } });
      expect(await client.closed).toEqual({ code: 1000, reason: "completed" });
      const types = client.messages.map((message) => message.type);
      expect(types.slice(0, 4)).toEqual(["run", "status", "status", "stage_started"]);
      expect(types.slice(-3)).toEqual(["stage_finished", "status", "result"]);
      expect(client.messages.filter((message) => message.type === "status").map((message) => message.status)).toEqual(["queued", "running", "completed"]);
      expect(await status(id)).toBe("completed");
    }, 60_000);

    it("runs a compiled language's compile stage first (its events sent), then the program on the streamed stdin", async () => {
      const client = await SessionClient.open(s.base);
      client.request({ language: "c", files: [{ path: "main.c", content: INCREMENTER_C }], limits: { wallTimeMs: 60_000 } });
      await client.until("the run stage", () => client.messages.find((message) => message.type === "stage_started" && message.stage === "run"));
      const stages = client.messages.filter((message) => message.type.startsWith("stage_")).map((message) => `${message.type} ${message.stage as string}`);
      expect(stages).toEqual(["stage_started compile", "stage_finished compile", "stage_started run"]);
      client.stdin("41\n");
      await client.until("the answer", () => (client.stdout() === "42\n" ? true : undefined));
      client.stdin("1\n2\n");
      client.end();
      const result = resultOf(await client.message("result"));
      expect(result).toMatchObject({ status: "completed", verdict: "accepted", compile: { exitCode: 0 }, run: { stdout: "42\n2\n3\ndone\n" } });
    }, 90_000);

    it("ends a session that idles at its wall limit", async () => {
      const client = await SessionClient.open(s.base);
      client.request(python(WAITER, { limits: { wallTimeMs: 1_500 } }));
      const result = resultOf(await client.message("result"));
      expect(result).toMatchObject({ status: "completed", verdict: "time_limit_exceeded", run: { status: "time_limit_exceeded", stdout: "ready\n" } });
      expect((await client.closed).code).toBe(1000);
    }, 60_000);

    it("cancels the run when the client goes away, and leaves no container, cgroup, watch, input or Redis connection behind", async () => {
      const host = await sandbox();
      const before = new Set(holders());
      const client = await SessionClient.open(s.base);
      client.request(python(WAITER, { limits: { wallTimeMs: 60_000 } }));
      const id = (await client.message("run")).id as string;
      await client.until("ready", () => (client.stdout() === "ready\n" ? true : undefined));
      client.stdin("some input, and no end to it");
      const mine = holders().filter((pid) => !before.has(pid));
      expect(mine.length).toBeGreaterThan(0);
      expect(s.sessions.open).toBe(1);
      await eventually("its input to be open", async () => ((await s.inputsLeft()) > 0 ? true : undefined));
      const connections = await s.connections?.();
      client.ws.terminate();
      await eventually("the run to be cancelled", async () => ((await status(id)) === "cancelled" ? true : undefined));
      // Distributed: the worker's blocking connection for the session's stdin is closed.
      if (connections !== undefined) await eventually("the stdin reader's connection to close", async () => ((await s.connections?.()) === connections - 1 ? true : undefined));
      await eventually("its container to be gone", () => (mine.every((pid) => !fs.existsSync(`/proc/${pid}`)) ? true : undefined));
      expect(host.cgroups.flatMap((parent) => mine.filter((pid) => fs.existsSync(`${parent}/warren-${pid}`)))).toEqual([]);
      // The tests before this one have ended their sessions: none is left on this server.
      await eventually("the session and its watch to be let go", () => (s.sessions.open === 0 && s.queue.events.watchers === 0 ? true : undefined));
      await eventually("its input to be let go", async () => ((await s.inputsLeft()) === 0 ? true : undefined));
    }, 60_000);

    it("is ended by DELETE /v1/runs/:id: the cancelled status, the result, and a normal close", async () => {
      const client = await SessionClient.open(s.base);
      client.request(python(WAITER, { limits: { wallTimeMs: 60_000 } }));
      const id = (await client.message("run")).id as string;
      await client.until("ready", () => (client.stdout() === "ready\n" ? true : undefined));
      expect((await fetch(`${s.base}/v1/runs/${id}`, { method: "DELETE" })).status).toBe(200);
      expect(resultOf(await client.message("result"))).toMatchObject({ id, status: "cancelled" });
      expect(await client.closed).toEqual({ code: 1000, reason: "cancelled" });
      expect(client.messages.filter((message) => message.type === "status").at(-1)).toMatchObject({ status: "cancelled" });
    }, 60_000);

    it("answers a bad first message with an error message and a policy close", async () => {
      const bad: [string, (client: SessionClient) => void, RegExp][] = [
        ["binary", (client) => client.stdin("print(1)"), /first message of a session is its run request/],
        ["not JSON", (client) => client.ws.send("{nope"), /not valid JSON/],
        ["tests", (client) => client.request({ ...python("print(1)"), tests: [{ name: "a" }] }), /`tests` are for judged runs/],
        ["unknown language", (client) => client.request({ language: "cobol-77", files: [{ path: "a", content: "" }] }), /Unknown language/],
        ["no files", (client) => client.request({ language: "python" }), /files/],
      ];
      for (const [what, send, message] of bad) {
        const client = await SessionClient.open(s.base);
        send(client);
        const error = await client.message("error");
        expect(error, what).toMatchObject({ type: "error", error: { code: "invalid_request" } });
        expect((error.error as { message: string }).message, what).toMatch(message);
        expect((await client.closed).code, what).toBe(1008);
        expect(client.messages.map((m) => m.type), what).toEqual(["error"]);
      }
    }, 60_000);

    it("refuses an unknown control message, and cancels the session's run", async () => {
      const client = await SessionClient.open(s.base);
      client.request(python(WAITER, { limits: { wallTimeMs: 60_000 } }));
      const id = (await client.message("run")).id as string;
      client.ws.send(JSON.stringify({ type: "interrupt" }));
      expect(await client.message("error")).toMatchObject({ error: { code: "invalid_request" } });
      expect((await client.closed).code).toBe(1008);
      await eventually("the run to be cancelled", async () => ((await status(id)) === "cancelled" ? true : undefined));
    }, 60_000);

    it("with API keys, refuses another key before the upgrade, and takes a good one as a header or a subprotocol", async () => {
      const refused = async (options: Parameters<typeof SessionClient.open>[1]) => {
        const error = (await SessionClient.open(keyed.base, options).then(
          () => undefined,
          (failure: unknown) => failure,
        )) as { status?: number; body?: string } | undefined;
        expect(error?.status).toBe(401);
        return JSON.parse(error?.body ?? "{}") as { error: { code: string } };
      };
      expect((await refused({})).error.code).toBe("unauthorized");
      expect((await refused({ headers: { authorization: "Bearer key-mallory" } })).error.code).toBe("unauthorized");
      expect((await refused({ protocols: ["warren.session.v1", "warren.key.key-mallory"] })).error.code).toBe("unauthorized");
      for (const options of [{ headers: { authorization: "Bearer key-alice" } }, { protocols: ["warren.session.v1", "warren.key.key-bob"] }]) {
        const client = await SessionClient.open(keyed.base, options);
        // The server answers with the session protocol, never with the key.
        expect(client.ws.protocol).toBe(options.protocols === undefined ? "" : "warren.session.v1");
        client.request(python("print('hi')"));
        expect(resultOf(await client.message("result"))).toMatchObject({ status: "completed", run: { stdout: "hi\n" } });
      }
    }, 60_000);

    it("rate-limits opening sessions per key as /v1 requests are (429 before the upgrade), and answers 404 for an upgrade elsewhere", async () => {
      const limited = await listenSessions(mode, { rateLimitPerMinute: 1 });
      try {
        const first = await SessionClient.open(limited.base);
        first.request(python("print(1)"));
        expect(resultOf(await first.message("result")).status).toBe("completed");
        const second = (await SessionClient.open(limited.base).catch((failure: unknown) => failure)) as { status?: number; body?: string };
        expect(second.status).toBe(429);
        expect(JSON.parse(second.body ?? "{}")).toMatchObject({ error: { code: "rate_limited" } });
      } finally {
        await limited.close();
      }
      const elsewhere = await new Promise<number | string | undefined>((resolve) => {
        const ws = new WebSocket(`${s.base.replace(/^http/, "ws")}/v1/runs`);
        ws.once("unexpected-response", (_request, response) => resolve(response.statusCode));
        ws.once("error", () => resolve("error"));
      });
      expect(elsewhere).toBe(404);
    }, 60_000);

    it("closes its sessions with 1001 when the server shuts down, their runs cancelled before the queue closes", async () => {
      const closing = await listenSessions(mode, {});
      const client = await SessionClient.open(closing.base);
      client.request(python(WAITER, { limits: { wallTimeMs: 60_000 } }));
      const id = (await client.message("run")).id as string;
      await client.until("ready", () => (client.stdout() === "ready\n" ? true : undefined));
      await closing.sessions.close();
      expect((await client.closed).code).toBe(1001);
      expect((await closing.queue.get(id))?.status).toBe("cancelled");
      await closing.close();
    }, 60_000);

    it("sends the client's signals to its program: one it handles goes on, one that kills it ends it as runtime_error with that signal", async () => {
      const client = await SessionClient.open(s.base);
      client.request(python(TRAPS_INT, { limits: { wallTimeMs: 60_000 } }));
      await client.until("ready", () => (client.stdout() === "ready\n" ? true : undefined));
      client.signal("SIGINT");
      await client.until("the handler's output", () => (client.stdout() === "ready\nINT\n" ? true : undefined));
      client.signal("SIGINT");
      await client.until("the handler's output again", () => (client.stdout() === "ready\nINT\nINT\n" ? true : undefined));
      client.signal("SIGTERM");
      const result = resultOf(await client.message("result"));
      // a user's signal is neither a limit nor a cancel
      expect(result).toMatchObject({ status: "completed", verdict: "runtime_error", run: { status: "runtime_error", exitCode: null, signal: "SIGTERM", stdout: "ready\nINT\nINT\n" } });
      expect(await client.closed).toEqual({ code: 1000, reason: "completed" });
    }, 60_000);

    it("ends a C program that Ctrl-C kills as runtime_error with signal SIGINT (its compile stage untouched)", async () => {
      const client = await SessionClient.open(s.base);
      client.request({ language: "c", files: [{ path: "main.c", content: PAUSER_C }], limits: { wallTimeMs: 60_000 } });
      await client.until("ready", () => (client.stdout() === "ready\n" ? true : undefined));
      client.signal("SIGINT");
      const result = resultOf(await client.message("result"));
      expect(result).toMatchObject({ status: "completed", verdict: "runtime_error", compile: { exitCode: 0 }, run: { status: "runtime_error", signal: "SIGINT" } });
    }, 90_000);

    it("sends a signal at once while stdin waits for a program that does not read (Ctrl-C is never behind the input)", async () => {
      const client = await SessionClient.open(s.base);
      client.request(python(DEAF, { limits: { wallTimeMs: 60_000 } }));
      const id = (await client.message("run")).id as string;
      await client.until("ready", () => (client.stdout() === "ready\n" ? true : undefined));
      // 1 MiB in one message: more than the window, the launcher's buffer and the pipes hold; its write waits for the program
      client.stdin(Buffer.alloc(2 ** 20, 0x61));
      // Distributed: once the worker has read it from the stream, the signal comes after it there
      if (s.stdinEntries !== undefined) await eventually("the worker to read the stdin", async () => ((await s.stdinEntries?.(id)) === 0 ? true : undefined));
      client.signal("SIGINT");
      const result = resultOf(await client.message("result"));
      expect(result).toMatchObject({ status: "completed", verdict: "runtime_error", run: { status: "runtime_error", exitCode: 3, signal: null } });
    }, 60_000);

    it("holds a signal sent before the program runs until it does", async () => {
      const client = await SessionClient.open(s.base);
      client.request(python("import time\ntime.sleep(60)", { limits: { wallTimeMs: 60_000 } }));
      client.signal("SIGKILL");
      const result = resultOf(await client.message("result"));
      expect(result).toMatchObject({ status: "completed", verdict: "runtime_error", run: { status: "runtime_error", signal: "SIGKILL" } });
    }, 60_000);

    it("refuses a signal it does not send (an error message and a policy close), and cancels the run", async () => {
      for (const message of [{ type: "signal", signal: "SIGSTOP" }, { type: "signal", signal: "INT" }, { type: "signal" }, { type: "signal", signal: 2 }]) {
        const client = await SessionClient.open(s.base);
        client.request(python(WAITER, { limits: { wallTimeMs: 60_000 } }));
        const id = (await client.message("run")).id as string;
        client.ws.send(JSON.stringify(message));
        const error = await client.message("error");
        expect(error, JSON.stringify(message)).toMatchObject({ error: { code: "invalid_request" } });
        expect((error.error as { message: string }).message).toMatch(/SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGKILL, SIGUSR1, SIGUSR2/);
        expect((await client.closed).code).toBe(1008);
        await eventually("the run to be cancelled", async () => ((await status(id)) === "cancelled" ? true : undefined));
      }
    }, 60_000);

    it("cuts a client that answers no ping (gone without a close), cancels its run and leaves nothing; one that answers keeps its session", async () => {
      const pinging = await listenSessions(mode, { sessionPingMs: 200 });
      try {
        const alive = await SessionClient.open(pinging.base);
        alive.request(python(DOUBLER, { limits: { wallTimeMs: 60_000 } }));
        await alive.until("ready", () => (alive.stdout() === "ready\n" ? true : undefined));
        // silent: its ws answers no ping, as a peer whose network is gone
        const silent = await SessionClient.open(pinging.base, { autoPong: false });
        silent.request(python(WAITER, { limits: { wallTimeMs: 60_000 } }));
        const id = (await silent.message("run")).id as string;
        await eventually("the silent client's run to be cancelled", async () => ((await pinging.queue.get(id))?.status === "cancelled" ? true : undefined));
        expect((await silent.closed).code).toBe(1006); // terminated, no close frame
        // the other one, pinged all the while, answered: its session goes on
        alive.stdin("21\n");
        alive.end();
        expect(resultOf(await alive.message("result"))).toMatchObject({ status: "completed", run: { stdout: "ready\n42\nbye\n" } });
        await eventually("nothing left", async () => (pinging.sessions.open === 0 && pinging.queue.events.watchers === 0 && (await pinging.inputsLeft()) === 0 ? true : undefined));
      } finally {
        await pinging.close();
      }
    }, 60_000);

    it("holds the output limit: a program that floods its stdout ends as output_limit_exceeded", async () => {
      const client = await SessionClient.open(s.base);
      client.request(python("import sys\nsys.stdin.readline()\nwhile True: sys.stdout.write('x' * 65536)", { limits: { outputKb: 256, wallTimeMs: 30_000 } }));
      await client.message("run");
      client.stdin("go\n");
      const result = resultOf(await client.message("result"));
      expect(result).toMatchObject({ status: "completed", verdict: "output_limit_exceeded" });
      expect(client.stdout().length).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
    }, 60_000);

    it("stops reading a client that sends faster than its program reads (backpressure), and ends the session at the wall limit", async () => {
      // The program never reads; the client sends 32 MiB. Without backpressure the server would take it all
      // (and hold it) long before the wall limit; with it, most is still in the client's buffer at the end.
      const client = await SessionClient.open(s.base);
      client.request(python("import time\nprint('not reading', flush=True)\ntime.sleep(60)", { limits: { wallTimeMs: 3_000 } }));
      await client.message("run");
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      for (let i = 0; i < 512; i++) client.stdin(chunk);
      const result = resultOf(await client.message("result"));
      expect(result).toMatchObject({ status: "completed", verdict: "time_limit_exceeded" });
      expect(client.ws.bufferedAmount).toBeGreaterThan(16 * 2 ** 20);
      expect((await client.closed).code).toBe(1000);
    }, 60_000);

    it("cuts a client that reads none of its output, and cancels its run", async () => {
      const client = await SessionClient.open(s.base);
      // 12 MiB of output, more than the loopback socket's buffers take; the client stops reading its socket at once.
      client.request(python("import sys\nfor _ in range(192): sys.stdout.write('x' * 65535 + '\\n')\nimport time\ntime.sleep(60)", { limits: { outputKb: 16_384, wallTimeMs: 60_000 } }));
      const id = (await client.message("run")).id as string;
      client.ws.pause();
      await eventually("the session to be cut", () => (s.sessions.open === 0 ? true : undefined), 30_000);
      await eventually("its run to be cancelled", async () => ((await status(id)) === "cancelled" ? true : undefined));
      client.ws.terminate();
    }, 60_000);

    it("gives the program the request's own stdin first, then the session's, however large the first", async () => {
      // Text (the request's stdin is a string), 700 KiB of it: with the next 400 KiB, more than a streamed execution lets wait at once.
      const first = randomBytes(525 * 1024).toString("base64");
      const rest = randomBytes(400 * 1024);
      const client = await SessionClient.open(s.base);
      const reader = "import sys, hashlib\nb = sys.stdin.buffer.read()\nprint(len(b), hashlib.sha256(b).hexdigest())";
      client.request(python(reader, { stdin: first, limits: { wallTimeMs: 30_000 } }));
      await client.message("run");
      client.stdin(rest);
      client.end();
      const result = resultOf(await client.message("result"));
      const sent = Buffer.concat([Buffer.from(first), rest]);
      expect(result.run?.stdout).toBe(`${sent.length} ${createHash("sha256").update(sent).digest("hex")}\n`);
    }, 60_000);

    it("delivers stdin a program reads slowly whole and in order, through the window", async () => {
      // 4 MiB, far more than the window between the API and the program: the client is held back, and nothing is lost.
      const data = randomBytes(4 * 2 ** 20);
      const client = await SessionClient.open(s.base);
      const reader = "import sys, time, hashlib\nh = hashlib.sha256()\nn = 0\nwhile True:\n    b = sys.stdin.buffer.read(4096)\n    if not b: break\n    n += len(b)\n    h.update(b)\n    if n % 262144 == 0: time.sleep(0.01)\nprint(n, h.hexdigest())";
      client.request(python(reader, { limits: { wallTimeMs: 60_000 } }));
      await client.message("run");
      for (let offset = 0; offset < data.length; offset += 64 * 1024) client.stdin(data.subarray(offset, offset + 64 * 1024));
      client.end();
      const result = resultOf(await client.message("result"));
      expect(result.run?.stdout).toBe(`${data.length} ${createHash("sha256").update(data).digest("hex")}\n`);
    }, 90_000);
  });
}
