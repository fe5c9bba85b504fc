import { resolveDataDir } from "../config/data-dir.js";
import { loadSettings } from "../config/load-settings.js";
import type { Environment } from "../config/settings.js";
import { InvalidRequestError } from "../errors.js";
import { formatBytes } from "../sandbox/images/import/limits.js";
import { installImage, type InstalledImage } from "../sandbox/images/install.js";
import { loadCredentials } from "../sandbox/images/pull/auth.js";
import { pullImage, type PullProgress } from "../sandbox/images/pull/pull-image.js";
import { parseReference } from "../sandbox/images/pull/reference.js";
import { imageNameSchema } from "../sandbox/images/store/schemas.js";
import { parseCommand, positiveInteger } from "./args.js";
import { importLimits, readRecipe } from "./image-import.js";
import { reportInstall } from "./image-report.js";

const USAGE = `Usage: warren image pull REF [--name NAME] [--insecure] [--recipe NAME|FILE] [--description TEXT]
                         [--parallel N] [--max-size-mb N] [--max-files N]

Pulls REF — [HOST[:PORT]/]NAME[:TAG][@sha256:HEX], e.g. 127.0.0.1:5000/python:3.11 — from its
registry (distribution API v2; an index or manifest list resolves to linux/amd64), verifies every
blob against its digest and imports it into the image store as NAME (default: the repository's
last component). HTTPS unless --insecure or a loopback host. Credentials: $WARREN_REGISTRY_AUTH or
~/.config/warren/auth.json, as {"auths":{"HOST":{"auth":"base64(user:password)"}}}.`;

/** `warren image pull`. */
export async function imagePullCommand(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("image pull", USAGE, {
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      name: { type: "string" },
      insecure: { type: "boolean", default: false },
      recipe: { type: "string" },
      description: { type: "string" },
      parallel: { type: "string" },
      "max-size-mb": { type: "string" },
      "max-files": { type: "string" },
    },
  });
  if (parsed === undefined) return 0; // --help
  const { values, positionals } = parsed;
  const spec = positionals[0];
  const settings = loadSettings(env, "image");
  if (spec === undefined || positionals.length > 1) throw new InvalidRequestError(`warren image pull: give one image reference.\n\n${USAGE}`);
  const ref = parseReference(spec);
  const name = values.name ?? ref.repository.split("/").at(-1)!;
  if (!imageNameSchema.safeParse(name).success) throw new InvalidRequestError(`warren image pull: ${JSON.stringify(name)} is not a valid image name; give one with --name NAME.`);
  const recipe = values.recipe === undefined ? undefined : readRecipe(values.recipe);
  const limits = importLimits(values);
  const dataDir = resolveDataDir(settings.sandbox.dataDir);
  const start = process.hrtime.bigint();
  const progress = progressLine(spec);
  let installed: InstalledImage;
  try {
    const result = await pullImage(
      dataDir,
      ref,
      (archive, source) =>
        installImage(dataDir, archive, {
          name,
          format: "oci",
          limits,
          description: values.description ?? recipe?.description ?? "",
          source,
          ...(recipe === undefined ? {} : { env: recipe.env, languages: recipe.languages }),
        }, settings.sandbox),
      { insecure: values.insecure, credentials: loadCredentials(ref.registry, settings.images.registryAuthFile), parallel: positiveInteger("parallel", values.parallel) ?? 3, limits, onProgress: progress.update },
    );
    installed = result;
  } finally {
    progress.end();
  }
  reportInstall(installed, Number(process.hrtime.bigint() - start) / 1e9);
  return 0;
}

/** A progress line on stderr: redrawn in place on a terminal (10 times a second at most), else a plain line every 5 s. */
function progressLine(spec: string): { update: (progress: PullProgress) => void; end: () => void } {
  const tty = process.stderr.isTTY;
  let last = 0;
  let shown: PullProgress | undefined;
  let drawn = false;
  const text = (p: PullProgress) => `pulling ${spec}: ${p.blobsDone}/${p.blobs} blobs, ${formatBytes(p.bytes)} of ${formatBytes(p.totalBytes)} (${p.totalBytes === 0 ? 100 : Math.floor((p.bytes / p.totalBytes) * 100)}%)`;
  return {
    update(progress) {
      shown = progress;
      const now = Date.now();
      if (now - last < (tty ? 100 : 5000)) return;
      last = now;
      if (tty) {
        process.stderr.write(`\r\x1b[K${text(progress)}`);
        drawn = true;
      } else process.stderr.write(`${text(progress)}\n`);
    },
    end() {
      if (tty && drawn && shown !== undefined) process.stderr.write(`\r\x1b[K${text(shown)}\n`);
    },
  };
}
