// Paced warm invocations through the API, two (or more) builds alternated in one run: each tree's `warren serve`
// (embedded; BENCH_FN_MODE=distributed: redis-server + serve --no-worker + one worker each) with a trivial handler
// deployed and warmed up, then one invocation at a time, 150 ms after the last answer, taking turns between the trees
// (the order reversed every round), through Node's http client on a kept-alive connection. Paced, each invocation
// meets a prepared container or zygote child made ahead and idle cores: the latency of a warm invocation as such
// (bench/functions-api.ts's warmPaced), where a run's p50 moves by half a millisecond from run to run on a small VM;
// alternated, two builds meet the same machine. Prints each tree's warm p50, p25 and p75 in ms.
// usage: BENCH_FN_TREES=/path/before,/path/after node --import tsx bench/functions-paced-ab.ts [ROUNDS] [python|javascript]
//   (each tree built: `npm run build` there)
import http from "node:http";
import { pct, startEmbedded, startDistributed, TRIVIAL_HANDLERS, type Deployment } from "./common.js";
const N = Number(process.argv[2] ?? 60);
const LANG = process.argv[3] ?? "python";
const trees = (process.env.BENCH_FN_TREES ?? "").split(",").filter((tree) => tree !== "");
if (trees.length === 0) throw new Error("BENCH_FN_TREES: the built trees to alternate, comma-separated");
const bodies: Record<string, unknown> = TRIVIAL_HANDLERS;
function lean(agent: http.Agent, url: string, method: string, body?: string): Promise<{ ms: number; cold: boolean }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const headers = body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
    const request = http.request(url, { method, agent, headers }, (response) => {
      response.resume();
      response.on("end", () => resolve({ ms: performance.now() - start, cold: response.headers["x-warren-cold"] === "true" }));
    });
    request.on("error", reject);
    request.end(body);
  });
}
const ds: { tree: string; d: Deployment; agent: http.Agent; ms: number[] }[] = [];
for (const tree of trees) {
  const d = process.env.BENCH_FN_MODE === "distributed" ? await startDistributed({}, undefined, 1, tree) : await startEmbedded({}, undefined, tree);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const r = await fetch(`${d.base}/v1/functions/p`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(bodies[LANG]) });
  if (r.status !== 201) throw new Error(await r.text());
  for (let i = 0; i < 20; i++) await lean(agent, `${d.base}/v1/functions/p/invoke`, "POST", "{}");
  ds.push({ tree, d, agent, ms: [] });
}
for (let i = 0; i < N; i++) {
  for (const x of i % 2 === 0 ? ds : [...ds].reverse()) {
    await new Promise((s) => setTimeout(s, 150));
    const r = await lean(x.agent, `${x.d.base}/v1/functions/p/invoke`, "POST", "{}");
    if (!r.cold) x.ms.push(r.ms);
  }
}
for (const x of ds) { console.log(`${x.tree} ${LANG} ${process.env.BENCH_FN_MODE ?? "embedded"}: warm ${x.ms.length}/${N} p50 ${pct(x.ms, 0.5).toFixed(2)} p25 ${pct(x.ms, 0.25).toFixed(2)} p75 ${pct(x.ms, 0.75).toFixed(2)}`); await x.d.stop(); }
