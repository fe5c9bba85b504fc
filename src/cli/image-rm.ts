import { resolveDataDir } from "../config/data-dir.js";
import { loadSettings } from "../config/load-settings.js";
import type { Environment } from "../config/settings.js";
import { InvalidRequestError } from "../errors.js";
import { ImageStore } from "../sandbox/images/store/store.js";
import { parseCommand } from "./args.js";

const USAGE = "Usage: warren image rm NAME [--wait SECONDS]";

/** `warren image rm`: refused while sandboxes use the image, unless --wait gives them time to finish. */
export async function imageRmCommand(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("image rm", USAGE, { args: argv, allowPositionals: true, strict: true, options: { wait: { type: "string", default: "0" } } });
  if (parsed === undefined) return 0;
  const { values, positionals } = parsed;
  const settings = loadSettings(env, "image");
  const name = positionals[0];
  if (name === undefined || positionals.length > 1) throw new InvalidRequestError(`warren image rm: give one image NAME.\n\n${USAGE}`);
  const seconds = Number(values.wait);
  if (!Number.isFinite(seconds) || seconds < 0) throw new InvalidRequestError(`Expected --wait to be a number of seconds, got \`${values.wait}\`.`);
  const { contentRemoved } = await new ImageStore(resolveDataDir(settings.sandbox.dataDir)).remove(name, seconds * 1000);
  process.stdout.write(contentRemoved ? `removed ${name}\n` : `removed the name ${name} (its content stays: another name uses it)\n`);
  return 0;
}
