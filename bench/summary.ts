// One summary table of the newest bench/results/*.json of each kind:
// start-latency, exec-latency, service-latency, throughput, cpu, scaling, checker, interactive, functions.
// usage: node --import tsx bench/summary.ts [--since ISO-TIME]
//   --since: results older than this are marked stale (bench/all.ts passes its start time).
import { parseArgs } from "node:util";
import { newestResult, stamp, table } from "./common.js";

const { values: opts } = parseArgs({ options: { since: { type: "string" } } });
const since = opts.since === undefined ? undefined : stamp(opts.since);

type Row = [string, string, string, string];
const rows: Row[] = [];
const f = (x: unknown, digits = 1) => (typeof x === "number" ? x.toFixed(digits) : typeof x === "string" ? x : "-");

function section(kind: string, build: (data: any) => [string, string][]): void {
  const found = newestResult(kind);
  if (found === undefined) {
    rows.push([kind, "(no result)", "-", "-"]);
    return;
  }
  const stamp = /(\d{8}T\d{6}Z)\.json$/.exec(found.file)?.[1] ?? "";
  const notes = [found.data?.quick === true ? "quick" : "", since !== undefined && stamp < since ? "STALE" : "", found.data?.ok === false ? "FAILED" : ""].filter(Boolean);
  const file = `${found.file.replace("bench/results/", "")}${notes.length > 0 ? ` (${notes.join(", ")})` : ""}`;
  let measures: [string, string][];
  try {
    measures = build(found.data);
  } catch (error) {
    measures = [["(unreadable)", String(error)]];
  }
  measures.forEach(([measure, value], i) => rows.push([i === 0 ? kind : "", measure, value, i === 0 ? file : ""]));
}

section("start-latency", (d) =>
  (d.results as any[]).map((r) => [`${r.label}: median / p90 ms (${d.rounds} rounds)`, `${f(r.median, 2)} / ${f(r.p90, 2)}${r.fails > 0 ? ` (${r.fails} fails)` : ""}`]),
);
section("exec-latency", (d) => [
  ["Container.create / copyIn / exec true / exec python / destroy, median ms", [d.create, d.copyIn, d.execTrue, d.execPython, d.destroy].map((x) => f(Number(x), 2)).join(" / ")],
  ...(d.stagedExecTrue === undefined ? [] : [["exec true with one file staged (the worker's first exec), median ms", f(Number(d.stagedExecTrue), 2)] as [string, string]]),
]);
section("service-latency", (d) => [
  ...["embedded", "distributed"].filter((m) => d[m] !== undefined).map((m): [string, string] => [`trivial Python, ${m}: p50 / p99 ms (n=${d.n})`, `${f(d[m].p50)} / ${f(d[m].p99)}`]),
  ...["embedded", "distributed"]
    .filter((m) => d[m]?.compat !== undefined)
    .map((m): [string, string] => [
      `trivial Python, ${m}, alternated: ${Object.keys(d[m].compat).join(" / ")} median / p90 ms`,
      Object.values(d[m].compat as Record<string, { medianMs: number; p90Ms: number }>).map((r) => `${f(r.medianMs)}/${f(r.p90Ms)}`).join(", "),
    ]),
]);
section("throughput", (d) => [
  ...(d.results as any[]).map((r): [string, string] => [
    `hello C, ${r.mode}, ${r.inFlight} in flight: API / launcher one-shot runs/s (ratio, target ≥ ${d.config?.target ?? 0.7})`,
    `${f(r.api.runsPerSecond, 2)} / ${f(r.launcherOneShot.runsPerSecond, 2)} (${f(r.ratio, 2)} ${r.ratio >= (d.config?.target ?? 0.7) ? "✓" : "✗"})`,
  ]),
  ...[...new Map((d.results as any[]).filter((r) => r.rssKb).map((r) => [r.mode, r.rssKb])).entries()].map(([mode, rss]): [string, string] => [
    `RSS ${mode}, MiB before → after`,
    `${Object.keys(rss.before).map((n) => `${n} ${Math.round(rss.before[n] / 1024)} → ${Math.round(rss.after[n] / 1024)}`).join(", ")}${rss.bounded ? "" : " UNBOUNDED"}`,
  ]),
]);
section("cpu", (d) =>
  (d.results as any[]).map((r): [string, string] => [
    `trivial Python, ${r.variant}, ${r.inFlight} in flight: runs/s (× bwrap) / CPU ms per run, machine${r.cpuMsPerRun.warren === null ? "" : " / Warren's Node"}`,
    `${f(r.runsPerSecond)}${r.vsBwrap === null ? "" : ` (${f(r.vsBwrap, 2)})`} / ${f(r.cpuMsPerRun.machine, 2)}${r.cpuMsPerRun.warren === null ? "" : ` / ${f(r.cpuMsPerRun.warren, 2)}`}`,
  ]),
);
section("scaling", (d) => [
  ...(d.concurrency
    ? [
        [`(a) concurrency ${d.concurrency.map((r: any) => r.inFlight).join("/")}: runs/s`, d.concurrency.map((r: any) => f(r.runsPerSecond)).join(" / ")],
        [`(a) concurrency ${d.concurrency.map((r: any) => r.inFlight).join("/")}: p50 / p99 ms`, d.concurrency.map((r: any) => `${f(r.p50Ms, 0)}/${f(r.p99Ms, 0)}`).join(", ")],
      ]
    : []),
  ...(d.outputSize
    ? [
        [
          `(b) output ${d.outputSize.map((r: any) => `${r.bytes >= 1048576 ? `${r.bytes / 1048576}M` : `${r.bytes / 1024}K`}${r.overLimit ? "(over)" : ""}`).join("/")}: p50 ms`,
          d.outputSize.map((r: any) => f(r.p50Ms, 0)).join(" / "),
        ],
      ]
    : []),
  ...(d.images ?? []).map((r: any) => [`(c) image ${r.image} (${r.sizeBytes === null ? "host" : `${Math.round(r.sizeBytes / 1048576)} MiB`}), ${r.language}: p50 / p99 ms`, `${f(r.p50Ms)} / ${f(r.p99Ms)}`]),
  ...(d.tests
    ? [
        [`(d) judge C++ ${d.tests.rows.map((r: any) => r.tests).join("/")} tests: total p50 ms`, d.tests.rows.map((r: any) => f(r.totalP50Ms, 0)).join(" / ")],
        ["(d) marginal ms per extra test", f(d.tests.marginalMsPerTest, 2)],
      ]
    : []),
]);
section("checker", (d) => [
  [`${d.config.tests} tests judged: built-in float / checker program (C), median ms`, `${f(d.builtin.medianMs, 0)} / ${f(d.program.medianMs, 0)}`],
  ["checker program: extra ms per test", f(d.programExtraMsPerTest, 2)],
]);
section("interactive", (d) => [
  [`one test: stdin up front / ${d.config.exchanges} exchanges with an interactor, median ms`, `${f(d.plain.medianMs, 0)} / ${f(d.interactive.medianMs, 0)}`],
  ["interactive: ms per exchange (the interactor's container and compile included)", f(d.msPerExchange, 2)],
]);
section("functions", (d) => [
  ...(["python", "javascript"] as const).flatMap((language): [string, string][] => {
    const x = d[language];
    if (x === undefined) return [];
    const sustained = (x.sustained as any[]).map((s) => f(s.perSecond, 0)).join(" / ");
    return [
      [`${language} handler: warm / cold invoke / plain run, p50 ms (runtime, no HTTP)`, `${f(x.warm.p50Ms, 1)} / ${f(x.cold.p50Ms, 1)} / ${f(x.plainRun.p50Ms, 1)}`],
      [`${language} handler: warm invoke p99 ms`, f(x.warm.p99Ms, 1)],
      [`${language} handler: sustained invocations/s at ${(x.sustained as any[]).map((s) => s.inFlight).join(" / ")} in flight`, sustained],
    ];
  }),
  ["bare `python3 -c pass` starts/s, 2 at a time; best Python invocations/s ÷ it (wanted ≥ 2)", `${f(d.bare.python3.twoAtATime, 0)}; ${f(d.target.ratio, 2)}`],
]);

console.log("\n## Benchmark summary\n");
console.log(table(["benchmark", "measure", "value", "result file"], rows));
