import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import type { Metrics } from "../telemetry/metrics.js";

/**
 * A worker's own /metrics (and /healthz): in distributed mode the runs happen
 * in the workers, so their run counters, durations and active sandboxes are
 * scraped from each worker, not from the API.
 */
export async function startMetricsServer(metrics: Metrics, options: { port: number; host: string }): Promise<{ port: number; address: AddressInfo; close: () => Promise<void> }> {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/metrics", async (c) => c.text(await metrics.registry.metrics(), 200, { "Content-Type": metrics.registry.contentType }));
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => resolve(s as Server)) as Server;
  });
  return {
    port: (server.address() as AddressInfo).port,
    address: server.address() as AddressInfo,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
