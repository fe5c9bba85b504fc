import { Hono } from "hono";
import { parseResult } from "../run/result-json.js";
import { keyOwner } from "./auth.js";
import type { ApiDeps, AppEnv } from "./context.js";
import { NotFoundError } from "./errors.js";
import { invocationView } from "./invocation-answer.js";

/** GET /v1/invocations/:id: an invocation's state and, once finished, its outcome (async invocations; docs/api-extensions.md, *Functions*). */
export function invocationsRoutes(deps: ApiDeps): Hono<AppEnv> {
  const { queue, options } = deps;
  const app = new Hono<AppEnv>();
  app.get("/:id", async (c) => {
    const id = c.req.param("id");
    const stored = await queue.getSerialized(id);
    // With API keys, another key's invocation is as unknown as one that never was; so is a run's id.
    const foreign = options.apiKeys.length > 0 && stored?.owner !== keyOwner(c.get("apiKey"));
    const result = stored === undefined || foreign ? undefined : parseResult(stored.json);
    if (result === undefined || result.function?.kind !== "invoke") throw new NotFoundError(`No invocation ${JSON.stringify(id)}: it never existed or its result expired.`);
    return c.json(invocationView(result));
  });
  return app;
}
