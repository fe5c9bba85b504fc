import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

/** A real redis-server on a free loopback port with its own temp dir, for one test file. */
export interface TestRedis {
  readonly url: string;
  readonly port: number;
  /** Stops it (SIGTERM; it writes its append-only file first). */
  stop(): Promise<void>;
  /** Starts it again on the same port and dir (data survives through the append-only file). */
  start(): Promise<void>;
  /** Stops it for good and removes its dir. */
  dispose(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

export function redisServerPath(): string {
  const found = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).stdout.trim();
  if (found === "") throw new Error("redis-server is not installed; the queue tests need it: apt-get install -y redis-server (scripts/test-all.sh does this).");
  return found;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startRedis(): Promise<TestRedis> {
  const binary = redisServerPath();
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-redis-"));
  let child: ChildProcess | undefined;
  const start = async () => {
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", "--daemonize", "no", "--protected-mode", "yes", "--loglevel", "warning"];
    const started = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    child = started;
    let log = "";
    started.stdout?.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4096)));
    started.stderr?.on("data", (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4096)));
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!(await answers(port))) {
      if (started.exitCode !== null || Date.now() > deadline) {
        started.kill("SIGKILL");
        throw new Error(`redis-server did not start on port ${port}: ${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((resolve) => running.once("exit", resolve));
    running.kill("SIGTERM");
    const timer = setTimeout(() => running.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    dispose: async () => {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether something answers PING on the port. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.setTimeout(500);
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => {
      socket.destroy();
      resolve(data.toString().startsWith("+PONG"));
    });
    socket.once("error", () => resolve(false));
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}
