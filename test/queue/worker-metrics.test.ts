import { describe, expect, it } from "vitest";
import { Metrics } from "../../src/telemetry/metrics.js";
import { startMetricsServer } from "../../src/worker/metrics-server.js";

describe("a worker's own metrics server", () => {
  it("serves the run metrics it records on /metrics, and /healthz", async () => {
    const metrics = new Metrics();
    const done = metrics.started("python");
    done({ id: "x", status: "completed", language: "python", version: "3", verdict: "accepted", compile: null, run: null, tests: null });
    const server = await startMetricsServer(metrics, { port: 0, host: "127.0.0.1" });
    try {
      const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      expect(text).toContain('warren_runs_total{status="completed",verdict="accepted"} 1');
      expect(text).toContain('warren_run_duration_seconds_count{language="python"} 1');
      expect(await (await fetch(`http://127.0.0.1:${server.port}/healthz`)).json()).toEqual({ ok: true });
    } finally {
      await server.close();
    }
  });
});
