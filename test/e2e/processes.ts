import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { testEnv } from "../helpers/sandbox.js";
import { warrenBin } from "../helpers/cli.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * `warren ARGS` as users run it (bin/warren.js: test/helpers/cli.ts), its
 * output kept for failure messages. `checkout`: another checkout of Warren
 * to run (with its own node_modules), e.g. an older commit to show a test
 * fails there; that one from its sources through tsx, so it needs no build.
 */
export function warren(args: string[], env: NodeJS.ProcessEnv = {}, checkout = repo): { child: ChildProcess; log: () => string } {
  const command = checkout === repo ? [warrenBin(), ...args] : ["--import", "tsx", path.join(checkout, "src/cli/main.ts"), ...args];
  const child = spawn(process.execPath, command, {
    cwd: checkout,
    env: { ...testEnv(), WARREN_LOG_LEVEL: "info", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000));
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return { child, log: () => log };
}

/** Waits (bounded) until `url` answers 200. */
export async function until200(url: string, what: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(url).then((response) => response.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last ${status}). Log:\n${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** SIGTERM, then waits (bounded) for the exit; SIGKILL past it. Resolves with the exit code. */
export async function stop(child: ChildProcess, timeoutMs = 30_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

export async function postRun(base: string, body: unknown, wait = false): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${base}/v1/runs${wait ? "?wait=true" : ""}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}
