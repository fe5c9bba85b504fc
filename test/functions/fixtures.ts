import { createHash } from "node:crypto";
import { afterAll } from "vitest";
import type { FunctionFile, FunctionMode, FunctionSource, FunctionVersion, InvocationEvent } from "../../src/run/functions.js";
import { DEFAULT_COMPILE_LIMITS, DEFAULT_RUN_LIMITS, type Limits } from "../../src/run/limits.js";
import { PreparedBudget } from "../../src/sandbox/container/prepared-budget.js";
import { createFunctionRuntime, type FunctionRuntimeOptions, type SandboxFunctionRuntime } from "../../src/worker/functions/runtime.js";
import { sandbox, TIME_SCALE } from "../helpers/sandbox.js";

let numbers = 0;

/** A function's source as the API would resolve it, on the host image. */
export function source(language: string, files: Record<string, string | Buffer>, options: { mode?: FunctionMode; handler?: string | null; limits?: Partial<Limits>; env?: Record<string, string>; name?: string } = {}): FunctionSource {
  const mode = options.mode ?? "handler";
  const fileList: FunctionFile[] = Object.entries(files).map(([path, content]) => ({ path, content: Buffer.from(content) }));
  return {
    name: options.name ?? `fn-${process.pid}-${++numbers}`,
    language,
    languageVersion: "test",
    image: "host",
    mode,
    handler: mode === "handler" ? (options.handler ?? "main.handler") : null,
    files: fileList,
    env: options.env ?? {},
    limits: { ...DEFAULT_RUN_LIMITS, wallTimeMs: DEFAULT_RUN_LIMITS.wallTimeMs * TIME_SCALE, cpuTimeMs: DEFAULT_RUN_LIMITS.cpuTimeMs * TIME_SCALE, ...options.limits },
    compileLimits: { ...DEFAULT_COMPILE_LIMITS, wallTimeMs: DEFAULT_COMPILE_LIMITS.wallTimeMs * TIME_SCALE, cpuTimeMs: DEFAULT_COMPILE_LIMITS.cpuTimeMs * TIME_SCALE },
  };
}

/** An immutable version of SOURCE with BUILD (what FunctionRuntime.build returned). */
export function version(src: FunctionSource, build: readonly FunctionFile[] | null = null, number = 1): FunctionVersion {
  const digest = createHash("sha256").update(JSON.stringify(src.files.map((f) => [f.path, f.content.toString("base64")]))).digest("hex");
  return { ...src, version: String(number), number, digest, build, createdAt: new Date(0).toISOString() };
}

export const json = (value: unknown): InvocationEvent => ({ body: Buffer.from(JSON.stringify(value)), contentType: "application/json" });
export const bytes = (value: Buffer, contentType = "application/octet-stream"): InvocationEvent => ({ body: value, contentType });

/**
 * A function runtime on the test sandbox host, with a budget of its own (8),
 * closed after the file's tests. `zygotes`: whether a Python handler's
 * invocations go to its zygotes (zygote.test.ts) or, off, to prepared
 * containers (the warm path's suites).
 */
export function runtimes(zygotes: boolean): (options?: FunctionRuntimeOptions) => Promise<SandboxFunctionRuntime> {
  const made: SandboxFunctionRuntime[] = [];
  afterAll(async () => {
    for (const runtime of made) await runtime.close();
  });
  return async (options = {}) => {
    const runtime = createFunctionRuntime(await sandbox(), { budget: new PreparedBudget(8), ...(zygotes ? {} : { maxZygotesPerVersion: 0 }), ...options });
    made.push(runtime);
    return runtime;
  };
}

/** Builds SRC on RT (it must build) and returns its version. */
export async function deploy(rt: SandboxFunctionRuntime, src: FunctionSource): Promise<FunctionVersion> {
  const built = await rt.build(src);
  if (!built.ok) throw new Error(`build failed: ${built.message}\n${built.output}`);
  return version(src, built.build);
}
