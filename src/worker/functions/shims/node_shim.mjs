// Warren's Node.js function shim (docs/functions.md, "The shims' contract").
//
//   sh -c 'exec "$0" "$@" 3>&1 1>&2' node node_shim.mjs check|serve|zygote MODULE FUNCTION NAME VERSION
//
// Started with the response channel on fd 3 (the original stdout) and fd 1
// pointed at stderr, so that what the handler prints cannot corrupt the
// response. Imports MODULE (MODULE.mjs, .cjs or .js in the work dir, an ES
// module or CommonJS) and finds its export FUNCTION. `check` stops there (a
// deploy's trial load); `serve` then says it is ready (a line {"ready":true}
// on the response channel), blocks reading its event on stdin (a header line
// of JSON, then the body to EOF), awaits FUNCTION(event, context) and writes
// the response: a header line of JSON (with the body's length when ok), then
// the body. `zygote` (docs/functions.md, "The zygote") imports as `serve`
// does, then hands itself to warren-zygote.node, which forks each
// invocation's child from it; the child serves its event as `serve` does.
//
// Part of Warren, not of the user's code: a failure of the shim itself is
// reported as {"ok": false, "warren": ...}, never as the handler's error.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";

// fd 3 (`3>&1`); in a zygote's child, where warren-zygote.node moves it
let responseFd = 3;
// libwarren-zygote.so's zygote as a Node-API module (src/sandbox/native/zygote_node.c), bound read-only into a zygote's container
const ZYGOTE_MODULE = "/warren-lib/warren-zygote.node";
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
      at += fs.writeSync(responseFd, data, at);
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

/**
 * The zygote: the handler imported and the shim's path rehearsed, its own
 * output sent nowhere, it says it is ready (a byte on its control socket,
 * fd 0) and waits in warren-zygote.node for the launcher's requests. Each
 * returns in a new child, set up in its own namespaces, cgroup and scratch,
 * which makes the event loop its own again and serves its event; the zygote
 * itself never runs JavaScript again, and ends with the launcher.
 */
async function zygote(handler, name, version, threads) {
  // Nothing of the function's may run beside the zygote (SECURITY.md, "The zygote"): a thread its import
  // started (a worker_threads Worker) would go on running while children are made, and could pass what one
  // tells it to the next. Such a version's invocations get prepared containers.
  const now = threadCount();
  if (now > threads) {
    respond({ ok: false, warren: `the function's import left ${now - threads} thread(s) of its own running (a worker_threads Worker?): it gets no zygote` });
    return;
  }
  const require = createRequire(import.meta.url);
  const native = require(ZYGOTE_MODULE);
  const crypto = require("node:crypto"); // loaded here, once, for reseed() in each child
  rehearse();
  native.quiet();
  fs.writeSync(0, "R");
  if (native.next(0) !== 0) native.exit(0); // the container is ending
  responseFd = native.afterFork();
  // pid 1 of its own pid namespace, its parent outside it (as a Python child sees os.getpid() and os.getppid())
  Object.defineProperty(process, "pid", { value: native.pid(), writable: false, enumerable: true, configurable: true });
  Object.defineProperty(process, "ppid", { value: 0, writable: true, enumerable: true, configurable: true });
  // process.exit ends in process.reallyExit, after its 'exit' event: in a child that is _exit
  // (Node's own exit path joins threads a forked child does not have)
  process.reallyExit = (code) => native.exit(Number(code) || 0);
  reseed(crypto);
  await serve(handler, name, version);
}

/** This process's threads: Node's own (V8's platform, libuv's pool once started), and any the function's code started. */
function threadCount() {
  return fs.readdirSync("/proc/self/task").length;
}

/**
 * What a fork would otherwise give every child alike. Math.random: V8's
 * generator state is the zygote's and V8 has no way to reseed it, so a
 * child gets a generator of its own (sfc32), seeded from the kernel.
 * crypto.randomUUID: Node hands out UUIDs from a batch of 128 random values
 * filled once; 128 calls pass the end of the batch whatever its position,
 * so that what a handler draws next comes from a fill made in this child.
 * (OpenSSL's own generator, behind randomBytes and getRandomValues, reseeds
 * itself after a fork.)
 */
function reseed(crypto) {
  let [a, b, c, d] = crypto.getRandomValues(new Uint32Array(4));
  const next = () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // 53 random bits, as V8's own: [0, 1)
  const random = () => ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
  Object.defineProperty(Math, "random", { value: random, writable: true, enumerable: false, configurable: true });
  for (let i = 0; i < 128; i++) crypto.randomUUID();
}

try {
  const [mode, module, fn, name, version] = process.argv.slice(2);
  // a zygote: Node's own threads, libuv's pool started (its first use starts it), before the function's code runs
  let threads = 0;
  if (mode === "zygote") {
    await fs.promises.stat(".");
    threads = threadCount();
  }
  const handler = await load(module, fn);
  if (handler !== undefined) {
    if (mode === "check") respond({ ok: true, contentType: "application/json" });
    else if (mode === "zygote") await zygote(handler, name, version, threads);
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
