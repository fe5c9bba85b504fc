import { Hono } from "hono";
import type { ApiDeps, AppEnv } from "./context.js";

/** One row of GET /v1/images: declared in the run layer (run/api-answers.ts), where the client can use it too. */
export { imageInfoSchema } from "../run/api-answers.js";

/** GET /v1/images: the installed images (an extension of API.md, see docs/images.md). */
export function imagesRoutes(deps: ApiDeps): Hono<AppEnv> {
  return new Hono<AppEnv>().get("/", (c) => c.json(deps.images(), 200));
}
