import { resolveDataDir } from "../config/data-dir.js";
import { loadSettings } from "../config/load-settings.js";
import type { Environment } from "../config/settings.js";
import { ImageCatalog } from "../sandbox/images/catalog.js";
import { loadHostImage } from "../sandbox/images/host-image.js";
import { parseCommand } from "./args.js";

const USAGE = "Usage: warren languages [--json]";

/** `warren languages`: the language table of the installed images. */
export async function languagesCommand(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("languages", USAGE, { args: argv, strict: true, options: { json: { type: "boolean", default: false } } });
  if (parsed === undefined) return 0;
  const { values } = parsed;
  const dataDir = resolveDataDir(loadSettings(env, "languages").sandbox.dataDir);
  const catalog = new ImageCatalog(dataDir, loadHostImage(dataDir));
  const rows = catalog.languages().map((language) => ({
    id: language.id,
    name: language.name,
    version: language.version.detected,
    aliases: language.aliases,
    compiled: language.compile !== null,
    image: language.image,
  }));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const table = [["ID", "NAME", "VERSION", "ALIASES", "COMPILED", "IMAGE"], ...rows.map((row) => [row.id, row.name, row.version, row.aliases.join(",") || "-", row.compiled ? "yes" : "no", row.image])];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()}\n`);
  return 0;
}
