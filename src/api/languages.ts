import { Hono } from "hono";
import type { ApiDeps, AppEnv } from "./context.js";

/** GET /v1/languages. */
export function languagesRoutes(deps: ApiDeps): Hono<AppEnv> {
  const rows = () =>
    deps.languages().map((language) => ({
      id: language.id,
      name: language.name,
      version: language.version.detected,
      aliases: [...language.aliases],
      compiled: language.compile !== null,
      image: language.image,
      extensions: [...language.extensions],
    }));
  return new Hono<AppEnv>().get("/", (c) => c.json(rows(), 200));
}
