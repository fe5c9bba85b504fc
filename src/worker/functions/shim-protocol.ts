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
  // A zygote's V8 runs its work on its one thread: a forked child has no other (node_shim.mjs, zygote_node.c).
  const v8 = mode === "zygote" ? [`--max-old-space-size=${memoryMb}`, "--single-threaded"] : [`--max-old-space-size=${memoryMb}`];
  return ["sh", "-c", 'exec "$0" "$@" 3>&1 1>&2', interpreter, ...v8, `${SHIM_MOUNT}/node_shim.mjs`, ...rest];
}

/** The shim's stdin: a header line (the invocation's id, the event's content type, the timeout), then the event's bytes to EOF. */
export function eventHeader(id: string, contentType: string, timeoutMs: number): Buffer {
  return Buffer.from(`${JSON.stringify({ id, contentType, timeoutMs })}\n`, "utf8");
}

const errorSchema = z.object({ type: z.string(), message: z.string(), stack: z.string().nullable() });

/**
 * The first line a shim writes on its response channel in mode `serve`, once
 * the handler's module is imported and its function found: from then on it
 * only waits for its event. Warren hands a prepared container out as warm
 * only after it (docs/functions.md, *The warm path*).
 */
export const READY_LINE = '{"ready":true}\n';
const READY = Buffer.from(READY_LINE, "utf8");

/** The handler's own time as its shim measured it (around its call): said by a process the handler shares, so only a report. */
const handlerMsSchema = z.number().nonnegative().finite().optional();

const headerSchema = z.union([
  // length: the body's, so that Warren knows when the response is complete (the shims always send it)
  z.object({ ok: z.literal(true), contentType: z.string(), length: z.number().int().nonnegative().optional(), handlerMs: handlerMsSchema }),
  z.object({ ok: z.literal(false), error: errorSchema, handlerMs: handlerMsSchema }),
  z.object({ ok: z.literal(false), load: errorSchema }),
  z.object({ ok: z.literal(false), warren: z.string() }),
]);

/** What a shim answered on its response channel. */
export type ShimResponse =
  | { readonly kind: "ok"; readonly contentType: string; readonly body: Buffer; readonly handlerMs?: number }
  /** The handler threw (or its result could not be encoded). */
  | { readonly kind: "error"; readonly error: z.infer<typeof errorSchema>; readonly handlerMs?: number }
  /** Importing the module failed, or it has no such function. */
  | { readonly kind: "load"; readonly error: z.infer<typeof errorSchema> }
  /** The shim itself failed: Warren's fault. */
  | { readonly kind: "warren"; readonly message: string }
  /** Nothing: the process ended before the shim could answer (it exited, or was killed). */
  | { readonly kind: "none" };

/** Parses the response channel's bytes; a header that is not the shim's is the shim's failure. */
export function parseShimResponse(channel: Buffer): ShimResponse {
  const bytes = startsWithReady(channel) ? channel.subarray(READY.length) : channel;
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
  const timed = "handlerMs" in value && value.handlerMs !== undefined ? { handlerMs: value.handlerMs } : {};
  if (value.ok) {
    const body = bytes.subarray(newline + 1);
    if (value.length === undefined) return { kind: "ok", contentType: value.contentType, body, ...timed };
    if (body.length < value.length) return { kind: "warren", message: `the shim's response was cut short (${body.length} of ${value.length} bytes)` };
    return { kind: "ok", contentType: value.contentType, body: body.subarray(0, value.length), ...timed };
  }
  if ("error" in value) return { kind: "error", error: value.error, ...timed };
  if ("load" in value) return { kind: "load", error: value.load };
  return { kind: "warren", message: value.warren };
}

function startsWithReady(bytes: Buffer): boolean {
  return bytes.length >= READY.length && bytes.subarray(0, READY.length).equals(READY);
}

/**
 * Reads a serving shim's response channel as it is written (the execution's
 * stdout chunks, in order, then `end()`). `ready` settles true once the
 * ready line has come, false when anything else comes first or the channel
 * ends without it. `response` settles with the channel's bytes once the
 * response is complete — its header line, then as many body bytes as the
 * header's `length` says (a header without one: never, the program's end
 * says it) — or undefined when the channel ends first. Holds what it has
 * read of the response: no more than the execution's output limit lets
 * through.
 */
export class ShimChannelWatch {
  readonly ready: Promise<boolean>;
  readonly response: Promise<Buffer | undefined>;
  #settleReady!: (ready: boolean) => void;
  #settleResponse!: (bytes: Buffer | undefined) => void;
  #isReady = false;
  #state: "ready" | "header" | "body" | "done";
  readonly #chunks: Buffer[] = [];
  #size = 0;
  /** Where the header line ends (its newline's offset + 1), once it has come. */
  #bodyAt = 0;
  #bodyLength = 0;

  /** EXPECT_READY: the channel starts with the ready line (mode serve); false for a channel that does not (the response comes first). */
  constructor(expectReady = true) {
    this.ready = new Promise<boolean>((resolve) => (this.#settleReady = resolve));
    this.response = new Promise<Buffer | undefined>((resolve) => (this.#settleResponse = resolve));
    this.#state = expectReady ? "ready" : "header";
    if (!expectReady) this.#settleReady(false);
  }

  /** Whether the ready line has come. */
  get isReady(): boolean {
    return this.#isReady;
  }

  push(chunk: Buffer): void {
    if (this.#state === "done" || chunk.length === 0) return;
    const from = this.#size;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
    if (this.#state === "ready") {
      if (this.#size < READY.length) {
        if (!READY.subarray(0, this.#size).equals(this.#bytes())) this.#notReady();
        return;
      }
      const bytes = this.#bytes();
      if (!startsWithReady(bytes)) return this.#notReady();
      this.#isReady = true;
      this.#settleReady(true);
      this.#state = "header";
      this.#chunks.splice(0, this.#chunks.length, bytes.subarray(READY.length));
      this.#size -= READY.length;
      if (this.#size > 0) this.#readHeader(0);
      return;
    }
    if (this.#state === "header") return this.#readHeader(from);
    this.#readBody();
  }

  /** The channel has ended (the program with it). */
  end(): void {
    this.#settleReady(false);
    this.#finish(undefined); // a no-op when the response was complete
  }

  #notReady(): void {
    this.#settleReady(false);
    this.#state = "header"; // a load failure's header, say: read as any response
    this.#readHeader(0);
  }

  /** Looks for the header's newline from offset FROM: in the last chunk only, so that a long header line is not copied at each chunk. */
  #readHeader(from: number): void {
    const last = this.#chunks[this.#chunks.length - 1]!;
    const lastAt = this.#size - last.length;
    const found = last.indexOf(10, Math.max(0, from - lastAt));
    if (found < 0) return;
    const newline = lastAt + found;
    const bytes = this.#bytes();
    this.#bodyAt = newline + 1;
    let header: unknown;
    try {
      header = JSON.parse(bytes.subarray(0, newline).toString("utf8"));
    } catch {
      return this.#finish(bytes); // not the shim's: parseShimResponse says so
    }
    const length = typeof header === "object" && header !== null && "length" in header ? header.length : undefined;
    const ok = typeof header === "object" && header !== null && "ok" in header && header.ok === true;
    if (!ok) return this.#finish(bytes); // an error's header has no body
    if (typeof length !== "number" || !Number.isSafeInteger(length) || length < 0) {
      this.#state = "done"; // no length: complete only when the program ends
      this.#chunks.length = 0;
      return;
    }
    this.#bodyLength = length;
    this.#state = "body";
    this.#readBody();
  }

  #readBody(): void {
    if (this.#size - this.#bodyAt >= this.#bodyLength) this.#finish(this.#bytes().subarray(0, this.#bodyAt + this.#bodyLength));
  }

  /** Settles `response` (only its first call counts). */
  #finish(bytes: Buffer | undefined): void {
    this.#state = "done";
    this.#chunks.length = 0;
    this.#settleResponse(bytes);
  }

  #bytes(): Buffer {
    if (this.#chunks.length > 1) this.#chunks.splice(0, this.#chunks.length, Buffer.concat(this.#chunks));
    return this.#chunks[0] ?? Buffer.alloc(0);
  }
}
