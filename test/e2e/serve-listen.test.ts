import { execFileSync } from "node:child_process";
import os from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.js";
import { freePort, startRedis } from "../helpers/redis-server.js";
import { stop, until200, warren } from "./processes.js";

/**
 * A non-loopback IPv4 address of this machine: one of its interfaces', else
 * one the test makes (a veth pair whose far end is in a network namespace of
 * the test's own, removed afterwards; needs root).
 */
function hostAddress(): { address: string; cleanup: () => void } {
  const own = Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .find((entry) => entry.family === "IPv4" && !entry.internal);
  if (own !== undefined) return { address: own.address, cleanup: () => {} };
  const ns = `warren-listen-${process.pid}`;
  const near = `wl${process.pid}a`.slice(0, 15);
  const ip = (...args: string[]) => execFileSync("ip", args, { stdio: "pipe" });
  ip("netns", "add", ns);
  try {
    ip("link", "add", near, "type", "veth", "peer", "name", "eth0", "netns", ns);
    ip("addr", "add", "198.18.77.1/30", "dev", near);
    ip("link", "set", near, "up");
  } catch (error) {
    ip("netns", "del", ns);
    throw error;
  }
  // deleting the namespace deletes its end of the pair, and so the pair
  return { address: "198.18.77.1", cleanup: () => ip("netns", "del", ns) };
}

/** What a GET of `url` gets: the status, or the connection error's code. */
async function reach(url: string): Promise<number | string> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(10_000) })).status;
  } catch (error) {
    return ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? (error as Error).message;
  }
}

/** Starts `warren serve ARGS`, waits until it answers on 127.0.0.1, runs `check` (with its start-up line, if any), stops it. */
async function withServe(args: string[], env: NodeJS.ProcessEnv, check: (port: number, notice: () => Promise<string>) => Promise<void>): Promise<void> {
  const port = await freePort();
  const server = warren(["serve", "--port", String(port), ...args], { REDIS_URL: "", WARREN_POOL_SIZE: "0", WARREN_API_KEYS: "", WARREN_HOST: "", ...env });
  try {
    await until200(`http://127.0.0.1:${port}/healthz`, server.log);
    // the line is written before the first answer, but its pipe may be read after the answer's socket
    await check(port, () => eventually("the start-up line", () => server.log().split("\n").find((line) => line.startsWith("warren serve: ")), 10_000));
  } finally {
    expect(await stop(server.child)).toBe(0);
  }
}

describe("where warren serve listens", () => {
  let outside: ReturnType<typeof hostAddress>;
  beforeAll(() => {
    outside = hostAddress();
  });
  afterAll(() => outside?.cleanup());

  it("by default, without API keys: loopback only, and it says so", async () => {
    await withServe([], {}, async (port, notice) => {
      expect(await reach(`http://${outside.address}:${port}/healthz`)).toBe("ECONNREFUSED");
      expect(await reach(`http://127.0.0.1:${port}/healthz`)).toBe(200);
      expect(await notice()).toBe(`warren serve: listening on http://127.0.0.1:${port} — this machine only; no API keys required`);
    });
  });

  it("with API keys: all interfaces, keys required", async () => {
    await withServe([], { WARREN_API_KEYS: "k1" }, async (port, notice) => {
      expect(await reach(`http://${outside.address}:${port}/healthz`)).toBe(200);
      expect(await reach(`http://${outside.address}:${port}/v1/languages`)).toBe(401);
      expect(await notice()).toBe(`warren serve: listening on http://0.0.0.0:${port} — all interfaces: anyone who can reach port ${port}; API keys required`);
    });
  });

  it("with --host 0.0.0.0 and no keys: reachable, with a warning", async () => {
    await withServe(["--host", "0.0.0.0"], {}, async (port, notice) => {
      expect(await reach(`http://${outside.address}:${port}/v1/languages`)).toBe(200);
      expect(await notice()).toBe(
        `warren serve: WARNING: listening on http://0.0.0.0:${port} — all interfaces: anyone who can reach port ${port} can run code on this machine; no API keys required (set WARREN_API_KEYS, or listen on 127.0.0.1 with --host)`,
      );
    });
  });

  it("WARREN_HOST wins over the keys' default", async () => {
    await withServe([], { WARREN_API_KEYS: "k1", WARREN_HOST: "127.0.0.1" }, async (port, notice) => {
      expect(await reach(`http://${outside.address}:${port}/healthz`)).toBe("ECONNREFUSED");
      expect(await notice()).toBe(`warren serve: listening on http://127.0.0.1:${port} — this machine only; API keys required`);
    });
  });

  it("warren worker's metrics: loopback by default, and it says so", async () => {
    const redis = await startRedis();
    const port = await freePort();
    const worker = warren(["worker"], { REDIS_URL: redis.url, WARREN_POOL_SIZE: "0", WARREN_METRICS_PORT: String(port) });
    try {
      const notice = await eventually("the metrics line", () => worker.log().split("\n").find((line) => line.startsWith("warren worker: ")), 30_000, 50);
      expect(notice).toBe(`warren worker: metrics on http://127.0.0.1:${port}/metrics — this machine only; no keys (/metrics and /healthz are open)`);
      expect(await reach(`http://127.0.0.1:${port}/healthz`)).toBe(200);
      expect(await reach(`http://${outside.address}:${port}/healthz`)).toBe("ECONNREFUSED");
    } finally {
      expect(await stop(worker.child)).toBe(0);
      await redis.dispose();
    }
  });

  it("refuses a malformed WARREN_CALLBACK_ALLOW at start-up, naming it", async () => {
    const server = warren(["serve", "--port", String(await freePort())], { REDIS_URL: "", WARREN_POOL_SIZE: "0", WARREN_CALLBACK_ALLOW: "127.0.0.0/8,localhost" });
    try {
      const code = await eventually("warren serve to exit", () => server.child.exitCode ?? undefined, 30_000, 50);
      expect(server.log().trim()).toBe('Expected WARREN_CALLBACK_ALLOW to be comma-separated CIDRs such as 127.0.0.0/8,::1/128,10.1.0.0/16; "localhost": not an IPv4 or IPv6 address with an optional /prefix.');
      expect(code).toBe(2);
    } finally {
      await stop(server.child); // only when it did not exit by itself
    }
  });
});
