import { Hono } from "hono";
import { z } from "zod";
import type { ApiDeps, AppEnv } from "./context.js";

/** One row of GET /v1/images (ImageInfo). */
export const imageInfoSchema = z.object({
  name: z.string().describe("What `image` in a run request names"),
  digest: z.string().nullable().describe("sha256:HEX of a stored image; null for the host image"),
  description: z.string().describe("What the image is for"),
  source: z.enum(["host", "import", "build", "pull"]).describe("How it was made"),
  createdAt: z.string().nullable().describe("When it was installed (ISO 8601)"),
  sizeBytes: z.number().nullable().describe("Bytes of file content"),
  files: z.number().nullable().describe("Entries in its root filesystem"),
  languages: z.array(z.object({ id: z.string(), version: z.string() })).describe("The languages it provides"),
});

/** GET /v1/images: the installed images (an extension of API.md, see docs/images.md). */
export function imagesRoutes(deps: ApiDeps): Hono<AppEnv> {
  return new Hono<AppEnv>().get("/", (c) => c.json(deps.images(), 200));
}
