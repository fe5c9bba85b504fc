// Redis commands per run and per function invocation, distributed mode (issue 15: each command sent from Node
// costs a round trip and ~0.05 ms of its CPU). Starts redis-server + `warren serve --no-worker` + one `warren
// worker` from each tree given, warms them up, then watches Redis with `redis-cli monitor` while COUNT trivial
// Python runs (POST /v1/runs?wait=true) and COUNT warm invocations of a trivial Python handler go one after
// the other, and counts per run: every command Redis ran, those sent by a client (not from inside a Lua
// script), and those by sender (the API, the worker: by the client's port, from `ss -tnp`) and by name.
// Background commands (heartbeats, BullMQ's stalled-job checks, its blocking waits) are counted too: they are
// a small share at these rates and the same in every tree.
// usage: node --import tsx bench/redis-commands.ts [COUNT]   BENCH_FN_TREES=/path/before,/path/after (default: this checkout)
import { spawn, spawnSync } from "node:child_process";
import readline from "node:readline";
import { r2, repo, startDistributed, timedRun, TRIVIAL_HANDLERS, writeResult } from "./common.js";

const COUNT = Number(process.argv[2] ?? 50);
const TREES = (process.env.BENCH_FN_TREES ?? repo).split(",").filter((tree) => tree !== "");
const RUN = JSON.stringify({ language: "python", files: [{ path: "main.py", content: "pass" }] });
const HANDLER = TRIVIAL_HANDLERS.python;

interface Line {
  readonly client: string;
  readonly command: string;
}

/** Watches every command Redis runs until `stop` is called; resolves with them. */
function monitor(url: string): { ready: Promise<void>; stop: () => Promise<Line[]> } {
  const child = spawn("redis-cli", ["-u", url, "monitor"], { stdio: ["ignore", "pipe", "inherit"] });
  const lines: Line[] = [];
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  readline.createInterface({ input: child.stdout }).on("line", (line) => {
    if (line === "OK") return onReady();
    // 1700000000.123456 [0 127.0.0.1:54321] "evalsha" "…" …   (from a script: [0 lua])
    const match = /^\d+\.\d+ \[\d+ ([^\]]+)\] "([^"]*)"/.exec(line);
    if (match !== null) lines.push({ client: match[1]!, command: match[2]!.toLowerCase() });
  });
  return {
    ready,
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
      return lines;
    },
  };
}

/** Client address (127.0.0.1:PORT) → the pid of the process that holds that end of the connection. */
function clientPids(): Map<string, number> {
  const out = spawnSync("ss", ["-tnpH"], { encoding: "utf8" }).stdout;
  const pids = new Map<string, number>();
  for (const line of out.split("\n")) {
    const fields = line.trim().split(/\s+/);
    const local = fields[3];
    const pid = /pid=(\d+)/.exec(line)?.[1];
    if (local !== undefined && pid !== undefined) pids.set(local, Number(pid));
  }
  return pids;
}

function tally(lines: readonly Line[], roles: ReadonlyMap<number, string>, count: number): Record<string, unknown> {
  const pids = clientPids();
  const sent = lines.filter((line) => line.client !== "lua");
  const by = (key: (line: Line) => string, of: readonly Line[]) => {
    const counts = new Map<string, number>();
    for (const line of of) counts.set(key(line), (counts.get(key(line)) ?? 0) + 1);
    return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).map(([name, n]) => [name, r2(n / count)]));
  };
  const role = (line: Line) => roles.get(pids.get(line.client) ?? -1) ?? "other";
  return {
    commands: r2(lines.length / count),
    sent: r2(sent.length / count),
    sentBy: by(role, sent),
    sentByName: by((line) => `${role(line)} ${line.command}`, sent),
    inScripts: by((line) => line.command, lines.filter((line) => line.client === "lua")),
  };
}

const results: Record<string, unknown> = { count: COUNT, trees: TREES, when: new Date().toISOString() };
for (const tree of TREES) {
  const deployment = await startDistributed({}, undefined, 1, tree);
  try {
    const roles = new Map(Object.entries(deployment.pids).map(([name, pid]) => [pid, name] as const));
    const put = await fetch(`${deployment.base}/v1/functions/rc`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(HANDLER) });
    if (put.status !== 201) throw new Error(`deploy: ${put.status} ${await put.text()}`);
    const invoke = async () => {
      const response = await fetch(`${deployment.base}/v1/functions/rc/invoke`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      const body = await response.text();
      if (response.status !== 200) throw new Error(`invoke: ${response.status} ${body}`);
    };
    for (let i = 0; i < 20; i += 1) await timedRun(deployment.base, RUN);
    for (let i = 0; i < 20; i += 1) await invoke();
    const out: Record<string, unknown> = {};
    for (const [kind, task] of [["run", () => timedRun(deployment.base, RUN)], ["invoke", invoke]] as const) {
      const watch = monitor(deployment.redisUrl!);
      await watch.ready;
      for (let i = 0; i < COUNT; i += 1) await task();
      // what a run leaves after its answer (the worker's last writes) lands before the count ends
      await new Promise((resolve) => setTimeout(resolve, 200));
      out[kind] = tally(await watch.stop(), roles, COUNT);
    }
    results[tree] = out;
    console.error(`${tree}: ${JSON.stringify(out)}`);
  } finally {
    await deployment.stop();
  }
}
console.log(JSON.stringify(results, null, 2));
console.log(`# written: ${writeResult("redis-commands", results)}`);
