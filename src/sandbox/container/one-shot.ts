import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { waitForClose } from "./child-exit.js";
import { degradedOf, parseStatusLine, type StatusLine } from "./launch-status.js";
import { OutputBuffer } from "./output-buffer.js";

export interface OneShotOutcome {
  /** undefined when the launcher printed no valid status line. */
  readonly status: StatusLine | undefined;
  readonly exitCode: number | null;
  readonly stderr: string;
  /** What its container was built without (`"degraded"`: docs/launcher.md, *Inside a container*). */
  readonly degraded: readonly string[];
}

/**
 * Runs `warren-launch ARGS` once (one-shot mode: a container for one program)
 * with the status on fd 3. Used by `warren doctor` to try the real thing.
 * `args` must include `--status-fd 3`.
 */
export async function launchOnce(launcher: string, args: readonly string[]): Promise<OneShotOutcome> {
  const child = spawn(launcher, args, { stdio: ["ignore", "ignore", "pipe", "pipe"] });
  const stderr = new OutputBuffer(16 * 1024);
  const status = new OutputBuffer(16 * 1024);
  child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
  (child.stdio[3] as Readable).on("data", (chunk: Buffer) => status.push(chunk));
  const failed = new Promise<Error>((resolve) => child.on("error", resolve));
  const exit = await Promise.race([waitForClose(child), failed]);
  if (exit instanceof Error) return { status: undefined, exitCode: null, stderr: exit.message, degraded: [] };
  const text = status.toBuffer().toString("utf8");
  return { status: parseStatusLine(text), exitCode: exit.code, stderr: stderr.toBuffer().toString("utf8").trim(), degraded: degradedOf(text) };
}
