// The floor of a Node service that runs a program per HTTP request (docs/performance.md, "The floor"): what
// Node itself costs for `POST /v1/runs?wait=true` with nothing of Warren's around it — no validation, queue,
// sandbox, limits, result store, logs or metrics. Per request: read the body, JSON.parse it, spawn
// `python3 -c SOURCE` (stdio three pipes, as Warren's launchers have), collect its output, answer a
// RunResult-shaped JSON. Options: `--fast-spawn` spawns with Warren's own spawner (posix_spawn through koffi,
// src/sandbox/container/fast-spawn.ts; from dist/: `npm run build` first) instead of child_process.spawn (which
// forks the whole Node process); `--hono` serves through hono on @hono/node-server, as Warren does; `--no-spawn`
// answers at once with what the program would have written (the HTTP alone).
// bench/cpu.ts runs these as the modes floor-http, floor, floor-fast and floor-hono (hono and Warren's
// spawner) beside Warren, and reads their CPU from /proc.
// usage: node bench/node-floor.mjs PORT [--hono] [--fast-spawn] [--no-spawn]
import { spawn } from "node:child_process";
import http from "node:http";

const port = Number(process.argv[2]);
const useHono = process.argv.includes("--hono");
const noSpawn = process.argv.includes("--no-spawn");
const spawnLauncher = process.argv.includes("--fast-spawn") ? (await import("../dist/sandbox/container/fast-spawn.js")).spawnLauncher : undefined;
let ids = 0;

/** Runs SOURCE with python3, STDIN on its stdin; resolves to a RunResult-shaped object. */
function run(source, stdin) {
  if (noSpawn) return Promise.resolve({ id: String(++ids), status: "completed", verdict: "accepted", compile: null, run: { status: "ok", exitCode: 0, signal: null, stdout: "", stderr: "", stdoutTruncated: false, wallTimeMs: 0 } });
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawnLauncher === undefined ? spawn("/usr/bin/python3", ["-c", source], { stdio: ["pipe", "pipe", "pipe"] }) : spawnLauncher("/usr/bin/python3", ["-c", source]);
    const out = [];
    const err = [];
    child.stdout.on("data", (b) => out.push(b));
    child.stderr.on("data", (b) => err.push(b));
    child.stdin.on("error", () => {});
    child.stdin.end(stdin);
    child.on("close", (code, signal) => {
      const ok = code === 0;
      resolve({
        id: String(++ids),
        status: "completed",
        verdict: ok ? "accepted" : "runtime_error",
        compile: null,
        run: { status: ok ? "ok" : "runtime_error", exitCode: code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), stdoutTruncated: false, wallTimeMs: performance.now() - started },
      });
    });
  });
}

if (useHono) {
  const { Hono } = await import("hono");
  const { serve } = await import("@hono/node-server");
  const app = new Hono();
  app.get("/readyz", (c) => c.text("ok"));
  app.post("/v1/runs", async (c) => {
    const body = await c.req.json();
    return c.json(await run(body.files[0].content, body.stdin ?? ""));
  });
  serve({ fetch: app.fetch, port, hostname: "127.0.0.1" });
} else {
  http
    .createServer((req, res) => {
      if (req.method !== "POST") return void res.end("ok");
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", async () => {
        const body = JSON.parse(Buffer.concat(chunks).toString());
        const json = JSON.stringify(await run(body.files[0].content, body.stdin ?? ""));
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(json) });
        res.end(json);
      });
    })
    .listen(port, "127.0.0.1");
}
