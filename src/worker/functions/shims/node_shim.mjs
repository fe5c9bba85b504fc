// Warren's Node.js function shim (docs/functions.md, "The shims' contract").
//
//   sh -c 'exec "$0" "$@" 3>&1 1>&2' node node_shim.mjs check|serve MODULE FUNCTION NAME VERSION
//
// Started with the response channel on fd 3 (the original stdout) and fd 1
// pointed at stderr, so that what the handler prints cannot corrupt the
// response. Imports MODULE (MODULE.mjs, .cjs or .js in the work dir, an ES
// module or CommonJS) and finds its export FUNCTION. `check` stops there (a
// deploy's trial load); `serve` then says it is ready (a line {"ready":true}
// on the response channel), blocks reading its event on stdin (a header line
// of JSON, then the body to EOF), awaits FUNCTION(event, context) and writes
// the response: a header line of JSON (with the body's length when ok), then
// the body.
//
// Part of Warren, not of the user's code: a failure of the shim itself is
// reported as {"ok": false, "warren": ...}, never as the handler's error.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const RESPONSE_FD = 3;
const HEADER_MAX = 64 * 1024;
const pause = new Int32Array(new SharedArrayBuffer(4));

// The first line in mode serve, once the import is done: Warren hands the container out as warm only after it.
const READY_LINE = '{"ready":true}\n';

function respond(header, body = Buffer.alloc(0)) {
  // the body's length: Warren answers once it has the body, before this process ends
  send(Buffer.concat([Buffer.from(JSON.stringify(header.ok ? { ...header, length: body.length } : header) + "\n", "utf8"), body]));
}

function send(data) {
  for (let at = 0; at < data.length; ) {
    try {
      at += fs.writeSync(RESPONSE_FD, data, at);
    } catch (error) {
      if (error.code !== "EAGAIN") throw error;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

function describe(error) {
  if (error instanceof Error) return { type: error.constructor?.name ?? error.name ?? "Error", message: String(error.message), stack: error.stack ?? null };
  return { type: typeof error, message: String(error), stack: null };
}

/** stdin to EOF, blocking: the event arrives whenever Warren delivers it. */
function readStdin() {
  const chunks = [];
  const chunk = Buffer.alloc(64 * 1024);
  for (;;) {
    let n;
    try {
      n = fs.readSync(0, chunk, 0, chunk.length, null);
    } catch (error) {
      if (error.code === "EAGAIN") {
        Atomics.wait(pause, 0, 0, 1);
        continue;
      }
      if (error.code === "EOF") break;
      throw error;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(chunk.subarray(0, n)));
  }
  return Buffer.concat(chunks);
}

/** Milliseconds of a monotonic clock (not `performance`: its first use loads a module, at the event's expense). */
function now() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Runs the shim's own path once on a made-up event before the real one can
 * come: Node compiles functions and loads its internals on first use, which
 * would otherwise be paid after the event's delivery.
 */
function rehearse() {
  const body = Buffer.from('{"a":[1,"b"]}');
  const input = Buffer.concat([Buffer.from('{"id":"","contentType":"application/json","timeoutMs":1}\n'), body]);
  const newline = input.indexOf(10);
  JSON.parse(input.subarray(0, newline).toString("utf8"));
  const [contentType, encoded] = encodeResult(decodeEvent(input.subarray(newline + 1), "application/json"));
  encodeResult(decodeEvent(body, "application/octet-stream"));
  decodeEvent(body, "text/plain");
  Buffer.concat([Buffer.from(JSON.stringify({ ok: true, contentType, length: encoded.length }) + "\n", "utf8"), encoded]);
  describe(new Error("rehearsal"));
  elapsedMs(now());
}

function elapsedMs(since) {
  return Math.round((now() - since) * 1000) / 1000;
}

function mediaType(contentType) {
  return contentType.split(";", 1)[0].trim().toLowerCase();
}

function decodeEvent(body, contentType) {
  const media = mediaType(contentType);
  if (media === "application/json" || media.endsWith("+json")) return body.toString("utf8").trim() === "" ? null : JSON.parse(body.toString("utf8"));
  if (media.startsWith("text/")) return body.toString("utf8");
  return body;
}

function encodeResult(result) {
  if (Buffer.isBuffer(result) || result instanceof Uint8Array) return ["application/octet-stream", Buffer.from(result.buffer, result.byteOffset, result.byteLength)];
  const text = JSON.stringify(result === undefined ? null : result);
  if (text === undefined) throw new TypeError(`the handler's result (${typeof result}) is not JSON-serializable (return a Buffer for a binary response)`);
  return ["application/json", Buffer.from(text, "utf8")];
}

/** The module's file: MODULE as given when it has an extension Node loads, else MODULE.mjs, .cjs, .js. */
function moduleFile(module) {
  const base = path.resolve(process.cwd(), module);
  const candidates = /\.(mjs|cjs|js)$/.test(module) ? [base] : [`${base}.mjs`, `${base}.cjs`, `${base}.js`, base];
  return candidates.find((file) => fs.existsSync(file)) ?? `${base}.js`;
}

async function load(module, name) {
  let loaded;
  try {
    loaded = await import(pathToFileURL(moduleFile(module)).href);
  } catch (error) {
    respond({ ok: false, load: describe(error) });
    return undefined;
  }
  // CommonJS: module.exports is the default export; its properties are named exports when Node can tell
  const handler = typeof loaded[name] === "function" ? loaded[name] : loaded.default?.[name];
  if (typeof handler !== "function") {
    respond({ ok: false, load: { type: "HandlerNotFound", message: `module ${JSON.stringify(module)} exports no function ${JSON.stringify(name)}`, stack: null } });
    return undefined;
  }
  return handler;
}

async function serve(handler, name, version) {
  const input = readStdin();
  const newline = input.indexOf(10);
  if (newline < 0 || newline > HEADER_MAX) {
    respond({ ok: false, warren: `the event's header line is missing or over ${HEADER_MAX} bytes` });
    return;
  }
  const meta = JSON.parse(input.subarray(0, newline).toString("utf8"));
  const body = input.subarray(newline + 1);
  const deadline = now() + meta.timeoutMs;
  const context = {
    invocationId: meta.id,
    functionName: name,
    functionVersion: version,
    remainingTimeMs: () => Math.max(0, Math.floor(deadline - now())),
  };
  let event;
  try {
    event = decodeEvent(body, meta.contentType);
  } catch (error) {
    respond({ ok: false, error: { type: "InvalidEvent", message: `the event is not valid JSON: ${error.message}`, stack: null } });
    return;
  }
  // An error thrown outside the handler's await (a timer's callback, a rejection nobody awaits) fails the invocation too.
  const stray = new Promise((_, reject) => {
    process.on("uncaughtException", reject);
    process.on("unhandledRejection", reject);
  });
  // The handler's own time (handlerMs): its call and what it awaits, so that Warren's share of an invocation is what is left.
  const called = now();
  let result;
  try {
    result = await Promise.race([handler(event, context), stray]);
  } catch (error) {
    respond({ ok: false, error: describe(error), handlerMs: elapsedMs(called) });
    return;
  }
  const handlerMs = elapsedMs(called);
  let encoded;
  try {
    encoded = encodeResult(result);
  } catch (error) {
    respond({ ok: false, error: describe(error), handlerMs });
    return;
  }
  respond({ ok: true, contentType: encoded[0], handlerMs }, encoded[1]);
}

try {
  const [mode, module, fn, name, version] = process.argv.slice(2);
  const handler = await load(module, fn);
  if (handler !== undefined) {
    if (mode === "check") respond({ ok: true, contentType: "application/json" });
    else {
      rehearse();
      send(Buffer.from(READY_LINE, "utf8"));
      await serve(handler, name, version);
    }
  }
} catch (error) {
  try {
    respond({ ok: false, warren: `the Node.js shim failed: ${error?.stack ?? String(error)}` });
  } catch {
    // the response channel is gone: Warren reports the missing response
  }
  process.exit(70);
}
// Timers and sockets the handler left open: none of them delays or changes the answer.
process.exit(0);
