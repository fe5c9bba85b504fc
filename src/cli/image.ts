import type { Environment } from "../config/settings.js";
import { runSubcommand, type Subcommands } from "./args.js";
import { imageBuildCommand } from "./image-build.js";
import { imageImportCommand } from "./image-import.js";
import { imageInspectCommand, imageLsCommand } from "./image-ls.js";
import { imagePullCommand } from "./image-pull.js";
import { imageRmCommand } from "./image-rm.js";

export const IMAGE_USAGE = `Usage: warren image <command>

  import FILE|- --name NAME   import a rootfs tarball, a docker save archive or an OCI layout (gzip, zstd or plain)
  pull REF [--name NAME]      pull an image from a registry (e.g. 127.0.0.1:5000/python:3.11) and import it
  build NAME                  build images/NAME/image.json with mmdebstrap and import it
  ls [--json]                 the installed images
  inspect NAME                one image's record, as JSON
  rm NAME [--wait SECONDS]    remove an image (refused while sandboxes use it, unless --wait)

Images live under WARREN_DATA_DIR/images (docs/images.md).`;

const commands: Subcommands = {
  import: imageImportCommand,
  pull: imagePullCommand,
  build: imageBuildCommand,
  ls: imageLsCommand,
  list: imageLsCommand,
  inspect: imageInspectCommand,
  rm: imageRmCommand,
};

/** `warren image …`. */
export async function imageCommand(argv: string[], env: Environment): Promise<number> {
  return runSubcommand("image", IMAGE_USAGE, commands, argv, env);
}
