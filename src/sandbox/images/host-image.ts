import path from "node:path";
import type { Bind } from "../container/launch-args.js";
import type { Language } from "./languages.js";
import { loadImageRecipe } from "./recipe.js";
import type { ImageLease } from "./store/lease.js";
import { ensureRootfs } from "./rootfs.js";
import { planSkeleton } from "./skeleton.js";
import { detectVersionsOnHost } from "./versions.js";

/** An image ready to run: its root, its binds, its base environment and its languages. */
export interface Image {
  readonly name: string;
  readonly rootfs: string;
  readonly binds: readonly Bind[];
  readonly env: Readonly<Record<string, string>>;
  readonly languages: readonly Language[];
  /** sha256:HEX of a stored image; undefined for the host image. */
  readonly digest?: string;
  /** Claims a stored image for one sandbox, so that `warren image rm` cannot remove it under the sandbox. */
  readonly acquire?: () => ImageLease;
}

/**
 * The `host` image: makes (once) the skeleton under
 * DATA_DIR/images/host/rootfs and detects the language versions.
 */
export function loadHostImage(dataDir: string): Image {
  const recipe = loadImageRecipe("host");
  const plan = planSkeleton(recipe);
  const imageDir = path.join(dataDir, "images", recipe.name);
  const rootfs = ensureRootfs(path.join(imageDir, "rootfs"), plan);
  const versions = detectVersionsOnHost(recipe.languages, recipe.env.PATH ?? "/usr/bin:/bin", path.join(imageDir, "versions.json"));
  const languages = recipe.languages.map(
    (language): Language =>
      Object.freeze({ ...language, image: recipe.name, version: { ...language.version, detected: versions.get(language.id) ?? "unknown" } }),
  );
  return Object.freeze({ name: recipe.name, rootfs, binds: plan.binds, env: recipe.env, languages });
}
