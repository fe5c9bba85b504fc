import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runResultSchema } from "../../src/run/result-schema.js";
import { errorSchema } from "../../src/api/answer-schemas.js";
import { deliverCallback } from "../../src/callback/callback-delivery.js";
import { serializeResult } from "../../src/run/result-json.js";
import { callbackPolicy } from "../../src/callback/callback-policy.js";
import { loadSettings } from "../../src/config/load-settings.js";
import type { RunResult } from "../../src/run/result.js";
import { postRun, stop } from "../e2e/processes.js";
import { eventually } from "../helpers/eventually.js";
import { freePort } from "../helpers/redis-server.js";
import { testEnv } from "../helpers/sandbox.js";
import { LOOPBACK_CALLBACKS, post, python, testApp, type TestApp } from "./fixture.js";
import { warrenBin } from "../helpers/cli.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

interface Received {
  readonly method: string;
  readonly url: string;
  readonly body: string;
}

/**
 * Two real HTTP servers on one port, on 127.0.0.1 and on [::1] (loopback only):
 * the internal service a callback must not reach. Every request they get, of
 * any kind, is kept.
 */
async function loopbackReceivers(answer: (request: http.IncomingMessage, response: http.ServerResponse) => void = (_, response) => response.writeHead(204).end()) {
  const received: Received[] = [];
  const make = () =>
    http.createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        received.push({ method: request.method ?? "", url: request.url ?? "", body });
        answer(request, response);
      });
    });
  for (let tries = 0; ; tries += 1) {
    const v4 = make();
    await new Promise<void>((resolve) => v4.listen(0, "127.0.0.1", resolve));
    const { port } = v4.address() as AddressInfo;
    const v6 = make();
    const listening = await new Promise<boolean>((resolve) => {
      v6.once("error", () => resolve(false));
      v6.listen(port, "::1", () => resolve(true));
    });
    if (listening) {
      return { port, received, close: () => Promise.all([v4, v6].map((server) => new Promise((resolve) => server.close(resolve)))) };
    }
    v4.close();
    if (tries > 20) throw new Error("no port free on both 127.0.0.1 and ::1");
  }
}

/** A logger whose lines the test reads. */
function capturingLogger() {
  const lines: { msg: string; problem?: string }[] = [];
  const logger = pino({ level: "info" }, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) });
  return { logger, lines };
}

const RESULT = serializeResult({ id: "00000000-0000-4000-8000-000000000000", status: "completed", language: "python", version: "3", verdict: "accepted", compile: null, run: null, tests: null } as unknown as RunResult);

/** Every spelling of "this machine" that reaches the receivers when it is not refused. */
const LOOPBACK_URLS = (port: number) => [
  `http://127.0.0.1:${port}/hook`,
  `http://[::1]:${port}/hook`,
  `http://[::ffff:127.0.0.1]:${port}/hook`,
  `http://[::ffff:7f00:1]:${port}/hook`,
  `http://127.1:${port}/hook`,
  `http://2130706433:${port}/hook`,
  `http://0x7f000001:${port}/hook`,
  `http://0177.0.0.1:${port}/hook`,
  `http://localhost:${port}/hook`,
  `http://LocalHost.:${port}/hook`,
  `http://hooks.localhost:${port}/hook`,
];
/** "Unspecified" addresses: the kernel connects them to this machine too. */
const UNSPECIFIED_URLS = (port: number) => [`http://0.0.0.0:${port}/hook`, `http://[::]:${port}/hook`];

describe("callbacks under the default policy (public addresses only)", () => {
  let receivers: Awaited<ReturnType<typeof loopbackReceivers>>;
  let t: TestApp;
  beforeAll(async () => {
    receivers = await loopbackReceivers();
    t = await testApp();
  });
  afterAll(async () => {
    await t?.close();
    await receivers?.close();
  });

  it("the receivers do take requests (so a silent one below means refused)", async () => {
    expect((await fetch(`http://127.0.0.1:${receivers.port}/probe`, { method: "POST", body: "x" })).status).toBe(204);
    expect((await fetch(`http://[::1]:${receivers.port}/probe`, { method: "POST", body: "x" })).status).toBe(204);
    expect(receivers.received.map((request) => request.url)).toEqual(["/probe", "/probe"]);
    receivers.received.length = 0;
  });

  it("refuses every loopback spelling, the metadata address and *.localhost at submission: 400 saying what to configure", async () => {
    const urls = [...LOOPBACK_URLS(receivers.port), ...UNSPECIFIED_URLS(receivers.port), "http://169.254.169.254/latest/meta-data/", "http://[::ffff:a9fe:a9fe]/", "http://10.0.0.1/", "http://[fd00::1]/"];
    for (const callbackUrl of urls) {
      const response = await t.app.request("/v1/runs", post(python("print(1)", { callbackUrl })));
      expect(response.status, callbackUrl).toBe(400);
      const error = errorSchema.parse(await response.json()).error;
      expect(error.code).toBe("invalid_request");
      expect(error.message, callbackUrl).toMatch(/^callbackUrl is not allowed: .* is (loopback|unspecified|link-local|private) \(.*WARREN_CALLBACK_ALLOW/);
    }
    expect(receivers.received).toEqual([]);
  });

  it("never connects to them at delivery either (a job queued elsewhere), and says why, once", async () => {
    for (const url of [...LOOPBACK_URLS(receivers.port), ...UNSPECIFIED_URLS(receivers.port)]) {
      const { logger, lines } = capturingLogger();
      expect(await deliverCallback(url, RESULT, logger, { attempts: 3, backoffMs: 1 }), url).toBe(false);
      expect(lines.map((line) => line.msg), url).toEqual([expect.stringMatching(/^callback not sent: /)]);
      const problem = lines[0]?.problem ?? "";
      if (new URL(url).hostname.includes("localhost")) {
        expect(problem).toMatch(/^(hooks\.)?localhost\.? resolves only to denied addresses (127\.0\.0\.1|::1)/);
      } else {
        expect(problem).toMatch(/^the callback's address .* is (loopback|unspecified) \(/);
      }
      expect(problem).toContain("WARREN_CALLBACK_ALLOW");
    }
    expect(receivers.received).toEqual([]);
  });
});

describe("callbacks with WARREN_CALLBACK_ALLOW=127.0.0.0/8,::1/128", () => {
  let receivers: Awaited<ReturnType<typeof loopbackReceivers>>;
  beforeAll(async () => {
    receivers = await loopbackReceivers();
  });
  beforeEach(() => {
    receivers.received.length = 0;
  });
  afterAll(async () => receivers?.close());

  it("delivers to every loopback spelling, and still not to 0.0.0.0 or [::] (not in the list)", async () => {
    const urls = LOOPBACK_URLS(receivers.port);
    for (const url of urls) {
      const { logger } = capturingLogger();
      expect(await deliverCallback(url, RESULT, logger, { attempts: 1, ...LOOPBACK_CALLBACKS }), url).toBe(true);
    }
    expect(receivers.received).toHaveLength(urls.length);
    for (const request of receivers.received) expect(request).toEqual({ method: "POST", url: "/hook", body: RESULT.json.toString("utf8") });
    for (const url of UNSPECIFIED_URLS(receivers.port)) {
      const { logger, lines } = capturingLogger();
      expect(await deliverCallback(url, RESULT, logger, { attempts: 1, ...LOOPBACK_CALLBACKS }), url).toBe(false);
      expect(lines[0]?.problem).toMatch(/ is unspecified \(/);
    }
    expect(receivers.received).toHaveLength(urls.length);
  });

  it("through the API: a run's RunResult arrives with its headers", async () => {
    const t = await testApp({}, { callback: LOOPBACK_CALLBACKS });
    const headers: http.IncomingHttpHeaders[] = [];
    const server = http.createServer((request, response) => {
      headers.push(request.headers);
      request.resume().on("end", () => response.writeHead(204).end());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const response = await t.app.request("/v1/runs?wait=true", post(python("print('hook')", { callbackUrl: `http://localhost:${(server.address() as AddressInfo).port}/done` })));
      const result = runResultSchema.parse(await response.json());
      await eventually("the webhook", () => (headers.length > 0 ? true : undefined));
      expect(headers[0]).toMatchObject({ "content-type": "application/json", "user-agent": "warren", "x-warren-run-id": result.id });
    } finally {
      server.close();
      await t.close();
    }
  });

  it("still refuses this API's own port on this machine", async () => {
    const t = await testApp({ ports: [receivers.port] }, { worker: false, callback: LOOPBACK_CALLBACKS });
    try {
      for (const callbackUrl of [`http://127.0.0.1:${receivers.port}/`, `http://[::ffff:127.0.0.1]:${receivers.port}/`, `http://0.0.0.0:${receivers.port}/`, `http://localhost:${receivers.port}/`]) {
        const response = await t.app.request("http://127.0.0.1:9/v1/runs", post(python("print(1)", { callbackUrl })));
        expect(response.status, callbackUrl).toBe(400);
        expect(errorSchema.parse(await response.json()).error.message).toMatch(/^callbackUrl points at this Warren API itself/);
      }
    } finally {
      await t.close();
    }
    const selfPolicy = callbackPolicy(loadSettings({ WARREN_CALLBACK_ALLOW: "127.0.0.0/8,::1/128" }).callback, [receivers.port]);
    for (const url of [`http://127.0.0.1:${receivers.port}/`, `http://localhost:${receivers.port}/`, `http://[::1]:${receivers.port}/`]) {
      const { logger, lines } = capturingLogger();
      expect(await deliverCallback(url, RESULT, logger, { attempts: 1, policy: selfPolicy })).toBe(false);
      expect(lines[0]?.problem).toMatch(/is this Warren API itself/);
    }
    expect(receivers.received).toHaveLength(0);
  });

  it("does not follow a redirect", async () => {
    const target = await loopbackReceivers();
    const redirecting = await loopbackReceivers((_, response) => response.writeHead(307, { location: `http://127.0.0.1:${target.port}/elsewhere` }).end());
    try {
      const { logger, lines } = capturingLogger();
      expect(await deliverCallback(`http://127.0.0.1:${redirecting.port}/hook`, RESULT, logger, { attempts: 2, backoffMs: 1, ...LOOPBACK_CALLBACKS })).toBe(false);
      expect(lines.filter((line) => line.msg === "callback failed").map((line) => line.problem)).toEqual(["HTTP 307", "HTTP 307"]);
      expect(redirecting.received).toHaveLength(2);
      expect(target.received).toEqual([]);
    } finally {
      await target.close();
      await redirecting.close();
    }
  });
});

/**
 * `warren serve` in a mount namespace of its own whose /etc/hosts maps
 * hook.warren.test to 127.0.0.1 and ::1: a real name, resolved by the real
 * resolver (getaddrinfo reads /etc/hosts), that leads to loopback.
 */
function serveWithHosts(hostsFile: string, port: number, env: NodeJS.ProcessEnv) {
  const child = spawn(
    "unshare",
    ["--mount", "--propagation", "private", "sh", "-c", 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile, process.execPath, warrenBin(), "serve", "--port", String(port), "--host", "127.0.0.1"],
    { cwd: repo, env: { ...testEnv(), WARREN_LOG_LEVEL: "info", REDIS_URL: "", WARREN_POOL_SIZE: "0", ...env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  child.stdout.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
  return { child, log: () => log };
}

describe.skipIf(process.getuid?.() !== 0)("a name that resolves to loopback, through a real warren serve (needs root for its mount namespace)", () => {
  let hostsFile: string;
  let receivers: Awaited<ReturnType<typeof loopbackReceivers>>;
  beforeAll(async () => {
    hostsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "warren-hosts-")), "hosts");
    fs.writeFileSync(hostsFile, "127.0.0.1 hook.warren.test\n::1 hook.warren.test\n");
    receivers = await loopbackReceivers();
  });
  afterAll(async () => {
    await receivers?.close();
    fs.rmSync(path.dirname(hostsFile), { recursive: true, force: true });
  });

  for (const allowed of [false, true]) {
    it(allowed ? "with loopback allowed: delivered" : "by default: accepted at submission, refused at delivery with the reason in the log", async () => {
      const port = await freePort();
      const server = serveWithHosts(hostsFile, port, allowed ? { WARREN_CALLBACK_ALLOW: "127.0.0.0/8,::1/128" } : {});
      try {
        const base = `http://127.0.0.1:${port}`;
        await eventually("warren serve to answer", () => fetch(`${base}/readyz`).then((response) => (response.status === 200 ? true : undefined), () => undefined), 45_000, 100).catch((error: Error) => {
          throw new Error(`${error.message}\n${server.log()}`);
        });
        const submitted = await postRun(base, python("print(1)", { callbackUrl: `http://hook.warren.test:${receivers.port}/done` }), true);
        expect(submitted.status).toBe(200);
        const result = runResultSchema.parse(submitted.body);
        if (allowed) {
          await eventually("the webhook", () => (receivers.received.length > 0 ? true : undefined));
          expect(receivers.received).toEqual([{ method: "POST", url: "/done", body: expect.stringContaining(result.id) }]);
        } else {
          const line = await eventually("the refusal in the log", () => server.log().split("\n").find((text) => text.includes("callback not sent")));
          expect(JSON.parse(line)).toMatchObject({ level: 40, runId: result.id, problem: expect.stringMatching(/^hook\.warren\.test resolves only to denied addresses (::1, 127\.0\.0\.1|127\.0\.0\.1, ::1) \(.*is loopback.*\); set WARREN_CALLBACK_ALLOW/) });
          expect(receivers.received).toEqual([]);
        }
      } finally {
        expect(await stop(server.child)).toBe(0);
        receivers.received.length = 0;
      }
    });
  }
});
