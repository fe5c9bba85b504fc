import fs from "node:fs";
import path from "node:path";
import { resolveDataDir } from "../config/data-dir.js";
import { loadSettings } from "../config/load-settings.js";
import type { Environment } from "../config/settings.js";
import { InvalidRequestError } from "../errors.js";
import { ARCHIVE_FORMATS, type ArchiveFormat } from "../sandbox/images/import/extract-image.js";
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from "../sandbox/images/import/limits.js";
import { installImage } from "../sandbox/images/install.js";
import { loadImageRecipe } from "../sandbox/images/recipe.js";
import { parseCommand, positiveInteger } from "./args.js";
import { reportInstall } from "./image-report.js";

const USAGE = `Usage: warren image import FILE|- --name NAME [--recipe NAME|FILE] [--format auto|rootfs|docker|oci]
                           [--description TEXT] [--max-size-mb N] [--max-files N]

Imports FILE (or stdin) — a rootfs tarball (docker export, mmdebstrap), a \`docker save\`
archive or an OCI image layout, gzip, zstd or plain — streamed, into the image store as NAME.
--recipe takes the environment and language table from a recipe (images/NAME/image.json
or an image.json FILE); their versions are detected inside the image.`;

/** `warren image import`. */
export async function imageImportCommand(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("image import", USAGE, {
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: "string" },
      recipe: { type: "string" },
      format: { type: "string", default: "auto" },
      description: { type: "string" },
      "max-size-mb": { type: "string" },
      "max-files": { type: "string" },
    },
  });
  if (parsed === undefined) return 0; // --help
  const { values, positionals } = parsed;
  const file = positionals[0];
  const settings = loadSettings(env, "image");
  if (file === undefined || positionals.length > 1) throw new InvalidRequestError(`warren image import: give one FILE (or - for stdin).\n\n${USAGE}`);
  if (values.name === undefined) throw new InvalidRequestError(`warren image import: --name NAME is required.\n\n${USAGE}`);
  const format = values.format as ArchiveFormat;
  if (!ARCHIVE_FORMATS.includes(format)) throw new InvalidRequestError(`Expected --format to be one of ${ARCHIVE_FORMATS.join(", ")}, got \`${values.format}\`.`);
  const recipe = values.recipe === undefined ? undefined : readRecipe(values.recipe);
  const limits = importLimits(values);
  let input;
  if (file === "-") input = process.stdin;
  else {
    if (!fs.existsSync(file)) throw new InvalidRequestError(`warren image import: ${file} does not exist.`);
    input = fs.createReadStream(file);
  }
  const start = process.hrtime.bigint();
  const installed = await installImage(resolveDataDir(settings.sandbox.dataDir), input, {
    name: values.name,
    format,
    limits,
    description: values.description ?? recipe?.description ?? "",
    source: { kind: "import", detail: file === "-" ? "stdin" : path.resolve(file) },
    ...(recipe === undefined ? {} : { env: recipe.env, languages: recipe.languages }),
  }, settings.sandbox);
  reportInstall(installed, Number(process.hrtime.bigint() - start) / 1e9);
  return 0;
}

/** An import's caps from its `--max-size-mb` and `--max-files` flags (image import and pull), each the default when absent. */
export function importLimits(values: { readonly "max-size-mb"?: string; readonly "max-files"?: string }): ImportLimits {
  const maxMb = positiveInteger("max-size-mb", values["max-size-mb"]);
  return {
    maxBytes: maxMb === undefined ? DEFAULT_IMPORT_LIMITS.maxBytes : maxMb * 1024 * 1024,
    maxFiles: positiveInteger("max-files", values["max-files"]) ?? DEFAULT_IMPORT_LIMITS.maxFiles,
  };
}

/** A shipped recipe's name, or the path of an image.json. */
export function readRecipe(spec: string) {
  if (spec.endsWith(".json")) return loadImageRecipe(path.basename(path.dirname(path.resolve(spec))), path.dirname(path.dirname(path.resolve(spec))));
  return loadImageRecipe(spec);
}
