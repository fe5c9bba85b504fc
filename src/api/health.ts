import { Hono } from "hono";
import type { ApiDeps, AppEnv } from "./context.js";
import { openApiDocument } from "./openapi.js";

/** /healthz, /readyz, /metrics and /openapi.json: open, no API key. */
export function healthRoutes(deps: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => c.json({ ok: true }, 200));
  app.get("/readyz", async (c) => {
    const health = await deps.ready().catch((error: unknown) => ({ ok: false, reason: (error as Error).message }));
    if (health.ok) return c.json({ ok: true }, 200);
    return c.json({ error: { code: "unavailable", message: `Not ready: ${health.reason ?? "unknown reason"}`, details: null } }, 503);
  });
  app.get("/metrics", async (c) => {
    const text = await deps.metrics.registry.metrics();
    return c.text(text, 200, { "Content-Type": deps.metrics.registry.contentType });
  });
  const document = openApiDocument(deps.options.maxima, deps.options.version, deps.options.compat);
  app.get("/openapi.json", (c) => c.json(document, 200));
  return app;
}
