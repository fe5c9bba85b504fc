import fs from "node:fs";
import path from "node:path";
import { ImageError } from "../../errors.js";
import { PACKAGE_ROOT } from "../container/launcher-path.js";
import { imageSchema, type ImageRecipe } from "./schema.js";

/** The recipes shipped with Warren: images/<name>/image.json. */
export const RECIPES_DIR = path.join(PACKAGE_ROOT, "images");

/** Reads and validates images/<name>/image.json. Throws ImageError with the zod issues. */
export function loadImageRecipe(name: string, dir: string = RECIPES_DIR): ImageRecipe {
  const file = path.join(dir, name, "image.json");
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new ImageError(`Cannot read the image recipe ${file}: ${(error as Error).message}`, { cause: error });
  }
  const parsed = imageSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new ImageError(`The image recipe ${file} is invalid: ${issues}`, { details: parsed.error.issues });
  }
  return parsed.data;
}
