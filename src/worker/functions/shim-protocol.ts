import path from "node:path";
import { z } from "zod";
import { BUILT_NATIVE_DIR, PACKAGE_ROOT } from "../../sandbox/container/launcher-path.js";
import type { Bind } from "../../sandbox/container/launch-args.js";

/*
 * What Warren and its shims say to each other (docs/functions.md, "The
 * shims' contract"). The shims (shims/python_shim.py, shims/node_shim.mjs)
 * are bound read-only into every function container at SHIM_MOUNT.
 */

/** Where the shims are in the package (source and build alike: they are not compiled). */
export const SHIM_DIR = path.join(PACKAGE_ROOT, "src", "worker", "functions", "shims");
/** Where a container sees them: outside the work dir, so no file of the function can shadow them. */
export const SHIM_MOUNT = "/warren-shims";
export const SHIM_BIND: Bind = { source: SHIM_DIR, target: SHIM_MOUNT };
/** Where a zygote's container sees libwarren-zygote.so (the native build, read-only; python_shim.py's ZYGOTE_LIBRARY). */
export const ZYGOTE_LIBRARY_BIND: Bind = { source: BUILT_NATIVE_DIR, target: "/warren-lib" };

/** The languages that have a handler shim, by language id. */
export const HANDLER_LANGUAGES = ["python", "javascript"] as const;
export type HandlerLanguage = (typeof HANDLER_LANGUAGES)[number];

export function isHandlerLanguage(id: string): id is HandlerLanguage {
  return (HANDLER_LANGUAGES as readonly string[]).includes(id);
}

/** `main.handler` → module `main`, function `handler` (the last dot splits them; `pkg.mod.fn` → `pkg.mod`, `fn`). */
export function splitHandler(handler: string): { module: string; fn: string } | undefined {
  const dot = handler.lastIndexOf(".");
  if (dot <= 0 || dot === handler.length - 1) return undefined;
  return { module: handler.slice(0, dot), fn: handler.slice(dot + 1) };
}

/**
 * The argv of a handler shim: INTERPRETER is the image's (argv[0] of the
 * language's run command). `check` stops after the import (a trial load);
 * `serve` then waits for its event.
 */
export function shimArgv(language: HandlerLanguage, interpreter: string, mode: "check" | "serve" | "zygote", handler: { module: string; fn: string }, name: string, version: string, memoryMb: number): string[] {
  const rest = [mode, handler.module, handler.fn, name, version];
  if (language === "python") return [interpreter, "-u", `${SHIM_MOUNT}/python_shim.py`, ...rest];
  // fd 3 is the response channel and fd 1 the program's stderr: Node cannot dup2 itself.
  // V8's heap is sized to the memory limit, so that running out of memory is the cgroup's verdict.
  return ["sh", "-c", 'exec "$0" "$@" 3>&1 1>&2', interpreter, `--max-old-space-size=${memoryMb}`, `${SHIM_MOUNT}/node_shim.mjs`, ...rest];
}

/** The shim's stdin: a header line (the invocation's id, the event's content type, the timeout), then the event's bytes to EOF. */
export function eventHeader(id: string, contentType: string, timeoutMs: number): Buffer {
  return Buffer.from(`${JSON.stringify({ id, contentType, timeoutMs })}\n`, "utf8");
}

const errorSchema = z.object({ type: z.string(), message: z.string(), stack: z.string().nullable() });

const headerSchema = z.union([
  z.object({ ok: z.literal(true), contentType: z.string() }),
  z.object({ ok: z.literal(false), error: errorSchema }),
  z.object({ ok: z.literal(false), load: errorSchema }),
  z.object({ ok: z.literal(false), warren: z.string() }),
]);

/** What a shim answered on its response channel. */
export type ShimResponse =
  | { readonly kind: "ok"; readonly contentType: string; readonly body: Buffer }
  /** The handler threw (or its result could not be encoded). */
  | { readonly kind: "error"; readonly error: z.infer<typeof errorSchema> }
  /** Importing the module failed, or it has no such function. */
  | { readonly kind: "load"; readonly error: z.infer<typeof errorSchema> }
  /** The shim itself failed: Warren's fault. */
  | { readonly kind: "warren"; readonly message: string }
  /** Nothing: the process ended before the shim could answer (it exited, or was killed). */
  | { readonly kind: "none" };

/** Parses the response channel's bytes; a header that is not the shim's is the shim's failure. */
export function parseShimResponse(bytes: Buffer): ShimResponse {
  if (bytes.length === 0) return { kind: "none" };
  const newline = bytes.indexOf(10);
  if (newline < 0) return { kind: "warren", message: "the shim's response has no header line (cut short?)" };
  let json: unknown;
  try {
    json = JSON.parse(bytes.subarray(0, newline).toString("utf8"));
  } catch {
    return { kind: "warren", message: `the shim's response header is not JSON: ${bytes.subarray(0, Math.min(newline, 200)).toString("utf8")}` };
  }
  const header = headerSchema.safeParse(json);
  if (!header.success) return { kind: "warren", message: `the shim's response header is not one Warren knows: ${JSON.stringify(json).slice(0, 200)}` };
  const value = header.data;
  if (value.ok) return { kind: "ok", contentType: value.contentType, body: bytes.subarray(newline + 1) };
  if ("error" in value) return { kind: "error", error: value.error };
  if ("load" in value) return { kind: "load", error: value.load };
  return { kind: "warren", message: value.warren };
}
