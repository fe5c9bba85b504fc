import { Hono } from "hono";
import { bearerAuth } from "./auth.js";
import { drainUnreadBody } from "./body-drain.js";
import type { ApiDeps, AppEnv } from "./context.js";
import { NotFoundError, renderError } from "./errors.js";
import { healthRoutes } from "./health.js";
import { imagesRoutes } from "./images.js";
import { languagesRoutes } from "./languages.js";
import { rateLimit } from "./rate-limit.js";
import { runsRoutes } from "./runs.js";
import { functionsRoutes } from "./functions.js";
import { invocationsRoutes } from "./invocations.js";
import { judge0Routes } from "./compat/judge0/routes.js";
import { pistonRoutes } from "./compat/piston/routes.js";

/** The HTTP API (API.md): /v1 behind API keys and a per-key rate limit; health, metrics and the OpenAPI document open. */
export function createApp(deps: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError((error, c) => renderError(c, error, deps.logger));
  app.notFound((c) => renderError(c, new NotFoundError(`No such endpoint: ${c.req.method} ${c.req.path} (see /openapi.json).`), deps.logger));
  app.use("*", drainUnreadBody(deps.options.bodyLimitBytes));
  app.route("/", healthRoutes(deps));
  app.use("/v1/*", bearerAuth(deps.options.apiKeys), rateLimit(deps.options.rateLimitPerMinute, deps.queue.rateLimiter()));
  app.route("/v1/runs", runsRoutes(deps));
  app.route("/v1/languages", languagesRoutes(deps));
  app.route("/v1/images", imagesRoutes(deps));
  app.route("/v1/functions", functionsRoutes(deps));
  app.route("/v1/invocations", invocationsRoutes(deps));
  if (deps.options.compat?.includes("judge0") === true) app.route("/judge0", judge0Routes(deps));
  if (deps.options.compat?.includes("piston") === true) app.route("/piston", pistonRoutes(deps));
  return app;
}
