import type { SandboxSettings } from "../../../config/settings.js";
import { ImageError } from "../../../errors.js";
import { installImage, type InstalledImage } from "../install.js";
import type { ImportLimits } from "../import/limits.js";
import type { ImageRecipe } from "../schema.js";
import { debianMirror } from "./debian-mirror.js";
import { mmdebstrapTar, type MmdebstrapOptions } from "./mmdebstrap.js";

export interface BuildOptions {
  /** `--mirror`, else WARREN_DEBIAN_MIRROR. @defaultValue the host apt's mirror for the suite (debian-mirror.ts) */
  readonly mirror?: string;
  readonly mode?: MmdebstrapOptions["mode"];
  readonly limits?: ImportLimits;
  /** Where the versions are detected, once it is installed (installImage). */
  readonly sandbox: SandboxSettings;
}

/**
 * Builds a recipe's root filesystem with mmdebstrap and imports the tarball
 * as it is written (no file in between), under the recipe's name, with its
 * environment and languages; then detects the versions inside the image.
 */
export async function buildImage(recipe: ImageRecipe, dataDir: string, options: BuildOptions): Promise<InstalledImage> {
  const rootfs = recipe.rootfs;
  if (rootfs.kind !== "debian") throw new ImageError(`Image ${recipe.name} is not built: its rootfs kind is ${rootfs.kind} (the host image needs no build).`);
  const mirror = debianMirror(rootfs.suite, options.mirror);
  const tar = await mmdebstrapTar(rootfs, { mirror, ...(options.mode === undefined ? {} : { mode: options.mode }) });
  return installImage(
    dataDir,
    tar,
    {
      name: recipe.name,
      format: "rootfs",
      description: recipe.description,
      source: { kind: "build", detail: `images/${recipe.name}/image.json: mmdebstrap ${rootfs.variant} ${rootfs.suite} from ${mirror}` },
      env: recipe.env,
      languages: recipe.languages,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    },
    options.sandbox,
  );
}
