import type { z } from "zod";
import { ImageCorruptError } from "../../errors.js";

/**
 * One of an image's JSON documents (an index, a manifest, a config) checked
 * against `schema`: an imported archive and a registry send them alike, and
 * neither is trusted. Throws ImageCorruptError naming the document, where it
 * came from, and every issue.
 */
export function parseImageJson<T extends z.ZodType>(schema: T, value: unknown, source: "archive" | "registry", what: string): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(root)"}: ${issue.message}`).join("; ");
    throw new ImageCorruptError(`The ${source}'s ${what} is not valid: ${issues}`, { details: parsed.error.issues });
  }
  return parsed.data;
}
