import { resolveDataDir } from "../config/data-dir.js";
import { loadSettings } from "../config/load-settings.js";
import type { Environment } from "../config/settings.js";
import { InvalidRequestError } from "../errors.js";
import { buildImage } from "../sandbox/images/build/build-image.js";
import { loadImageRecipe, RECIPES_DIR } from "../sandbox/images/recipe.js";
import { parseCommand } from "./args.js";
import { reportInstall } from "./image-report.js";

const MODES = ["auto", "root", "unshare", "fakechroot"] as const;

const USAGE = `Usage: warren image build NAME [--mirror URL] [--mode auto|root|unshare|fakechroot] [--recipes DIR]

Builds images/NAME/image.json (a \`debian\` rootfs) with mmdebstrap, streams the tarball into
the image store as NAME, then detects its languages' versions inside it.
  --mirror URL   Debian mirror (default: WARREN_DEBIAN_MIRROR, else the one in /etc/apt for the suite)
  --mode MODE    mmdebstrap --mode (default auto: root as root, unshare rootless — needs /etc/subuid)
  --recipes DIR  where recipes live (default: ${RECIPES_DIR})`;

/** `warren image build`. */
export async function imageBuildCommand(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("image build", USAGE, {
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      mirror: { type: "string" },
      mode: { type: "string", default: "auto" },
      recipes: { type: "string" },
    },
  });
  if (parsed === undefined) return 0; // --help
  const { values, positionals } = parsed;
  const name = positionals[0];
  if (name === undefined || positionals.length > 1) throw new InvalidRequestError(`warren image build: give one image NAME.\n\n${USAGE}`);
  const mode = values.mode as (typeof MODES)[number];
  if (!MODES.includes(mode)) throw new InvalidRequestError(`Expected --mode to be one of ${MODES.join(", ")}, got \`${values.mode}\`.`);
  const settings = loadSettings(env, "image");
  const recipe = loadImageRecipe(name, values.recipes ?? RECIPES_DIR);
  const start = process.hrtime.bigint();
  const mirror = values.mirror ?? settings.images.debianMirror;
  const installed = await buildImage(recipe, resolveDataDir(settings.sandbox.dataDir), { mode, sandbox: settings.sandbox, ...(mirror === undefined ? {} : { mirror }) });
  reportInstall(installed, Number(process.hrtime.bigint() - start) / 1e9);
  return 0;
}
