// Summarises a .cpuprofile (node --cpu-prof; BENCH_CPU_PROF=DIR in the
// benchmarks) by self time per file and per function, and by inclusive time
// per function of Warren's own code, in ms and per run.
//
// The profiler samples wall time on the main thread: a blocking call (a
// posix_spawn waiting for its child's execve, a synchronous stat) counts as
// the caller's self time even while the CPU is idle. For CPU alone, see
// docs/performance.md (perf record with --perf-basic-prof).
//
// usage: node bench/cpuprofile-summary.mjs FILE.cpuprofile RUNS
import fs from "node:fs";
import path from "node:path";

const [file, runsArg] = process.argv.slice(2);
if (file === undefined) {
  console.error("usage: node bench/cpuprofile-summary.mjs FILE.cpuprofile RUNS");
  process.exit(2);
}
const runs = Number(runsArg ?? 1);
const repo = `file://${path.resolve(import.meta.dirname, "..")}/`;
const profile = JSON.parse(fs.readFileSync(file, "utf8"));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
const selfTime = new Map();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  selfTime.set(id, (selfTime.get(id) ?? 0) + dt);
  total += dt;
});
const short = (url) => url.replace(/.*node_modules\//, "nm/").replace(repo, "");
const key = (node) => `${node.callFrame.functionName || "(anonymous)"} ${short(node.callFrame.url)}:${node.callFrame.lineNumber}`;
const bySelf = new Map();
const byFile = new Map();
const inclusive = new Map();
let idle = 0;
for (const [id, t] of selfTime) {
  const node = byId.get(id);
  if (node.callFrame.functionName === "(idle)") idle += t;
  bySelf.set(key(node), (bySelf.get(key(node)) ?? 0) + t);
  const where = node.callFrame.url === "" ? `(${node.callFrame.functionName})` : short(node.callFrame.url).replace(/^nm\/((@[^/]+\/)?[^/]+).*/, "nm/$1");
  byFile.set(where, (byFile.get(where) ?? 0) + t);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = key(byId.get(cur));
    if (!seen.has(k)) {
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + t);
    }
  }
}
const ms = (us) => (us / 1000).toFixed(0).padStart(7);
const perRun = (us) => (us / 1000 / runs).toFixed(3).padStart(7);
const top = (map, n, filter = () => true) => [...map].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, n);
console.log(`total ${ms(total)} ms, idle ${ms(idle)} ms; busy per run ${perRun(total - idle)} ms over ${runs} runs`);
console.log("\n   ms   ms/run  self, by file");
for (const [k, t] of top(byFile, 30)) console.log(`${ms(t)} ${perRun(t)}  ${k}`);
console.log("\n   ms   ms/run  self, by function");
for (const [k, t] of top(bySelf, 30)) console.log(`${ms(t)} ${perRun(t)}  ${k}`);
console.log("\n   ms   ms/run  inclusive, Warren's own functions");
for (const [k, t] of top(inclusive, 50, (k) => k.includes(" dist/") || k.includes(" src/"))) console.log(`${ms(t)} ${perRun(t)}  ${k}`);
