import { piston } from "piston-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { freePort } from "../helpers/redis-server.js";
import { stop, until200, warren } from "./processes.js";

describe("warren serve with WARREN_COMPAT=piston", () => {
  let server: ReturnType<typeof warren>;
  let base: string;
  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    server = warren(["serve", "--port", String(port), "--host", "127.0.0.1"], { REDIS_URL: "", WARREN_COMPAT: "piston" });
    await until200(`${base}/readyz`, server.log);
  });
  afterAll(async () => {
    if (server !== undefined && server.child.exitCode === null) await stop(server.child);
  });

  it("serves Piston over HTTP and its WebSocket, and a shutdown closes an open connection (1001) before it exits 0", async () => {
    const result = (await piston({ server: `${base}/piston` }).execute("python", "print(6 * 7)")) as Record<string, any>;
    expect(result.run).toMatchObject({ stdout: "42\n", code: 0 });
    const ws = new WebSocket(`${base.replace("http", "ws")}/piston/api/v2/connect`);
    const received: Record<string, unknown>[] = [];
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    const ready = new Promise<void>((resolve) =>
      ws.on("message", (data) => {
        received.push(JSON.parse(data.toString()) as Record<string, unknown>);
        if (received.some((message) => message.type === "data" && message.data === "ready\n")) resolve();
      }),
    );
    await new Promise((resolve) => ws.once("open", resolve));
    ws.send(JSON.stringify({ type: "init", language: "python", version: "*", files: [{ content: "import time\nprint('ready', flush=True)\ntime.sleep(60)" }], run_timeout: 60_000 }));
    await ready;
    expect(await stop(server.child)).toBe(0);
    expect(await closed).toBe(1001);
  }, 120_000);
});
