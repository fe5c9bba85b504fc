import { z } from "zod";
import { languageSchema } from "../schema.js";

/** An image name: what `image` in a run request and `warren image` commands use. */
export const imageNameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9._-]{0,63}$/, "an image name is 1-64 lowercase letters, digits, `.`, `_` or `-`, starting with a letter")
  .describe("Image name, e.g. `python`");

const digestSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/).describe("sha256:HEX of the image's layers (see docs/images.md)");

/** sha256/HEX/content.json: what a stored root filesystem was made from. */
export const contentSchema = z.strictObject({
  digest: digestSchema,
  format: z.enum(["rootfs", "docker", "oci"]).describe("The kind of archive it was imported from"),
  diffIds: z.array(z.string()).describe("sha256 of each uncompressed layer, lowest first"),
  files: z.number().int().nonnegative().describe("Entries written"),
  bytes: z.number().int().nonnegative().describe("Bytes of file content written"),
  importedAt: z.string().describe("ISO 8601 time of the import"),
});
export type ContentRecord = z.infer<typeof contentSchema>;

/** names/NAME.json: one entry of the name index. */
export const nameRecordSchema = z.strictObject({
  name: imageNameSchema,
  digest: digestSchema,
  description: z.string().default("").describe("What the image is for"),
  createdAt: z.string().describe("ISO 8601 time the name was set"),
  source: z
    .strictObject({
      kind: z.enum(["import", "build", "pull"]).describe("How it was made"),
      detail: z.string().describe("The archive imported, the recipe built, or the reference pulled (with its manifest digest)"),
    })
    .describe("Where the image came from"),
  env: z.record(z.string(), z.string()).default({}).describe("Base environment of every program run in it"),
  languages: z.array(languageSchema).default([]).describe("The languages it provides (from its recipe)"),
  versions: z.record(z.string(), z.string()).default({}).describe("Language id → version, detected inside the image at install"),
});
export type NameRecord = z.infer<typeof nameRecordSchema>;
