import { resolveDataDir } from "../config/data-dir.js";
import { loadSettings } from "../config/load-settings.js";
import type { Environment } from "../config/settings.js";
import { InvalidRequestError } from "../errors.js";
import { ImageCatalog } from "../sandbox/images/catalog.js";
import { loadHostImage } from "../sandbox/images/host-image.js";
import { imageInfo } from "../sandbox/images/image-info.js";
import { formatBytes } from "../sandbox/images/import/limits.js";
import { parseCommand } from "./args.js";

/** The installed images, in the data dir of `env`'s settings. */
function catalog(env: Environment): ImageCatalog {
  const dataDir = resolveDataDir(loadSettings(env, "image").sandbox.dataDir);
  return new ImageCatalog(dataDir, loadHostImage(dataDir));
}

/** `warren image ls [--json]`. */
export async function imageLsCommand(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("image ls", "Usage: warren image ls [--json]", { args: argv, strict: true, options: { json: { type: "boolean", default: false } } });
  if (parsed === undefined) return 0;
  const { values } = parsed;
  const images = catalog(env);
  const rows = images.images().map((image) => imageInfo(image, images.store));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  const table = [
    ["NAME", "DIGEST", "SOURCE", "SIZE", "LANGUAGES"],
    ...rows.map((row) => [row.name, row.digest?.slice(0, 19) ?? "-", row.source, row.sizeBytes === null ? "-" : formatBytes(row.sizeBytes), row.languages.map((language) => language.id).join(",") || "-"]),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((row) => row[column]!.length)));
  for (const row of table) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()}\n`);
  return 0;
}

/** `warren image inspect NAME`: the name record, its content record and where its root is. */
export async function imageInspectCommand(argv: string[], env: Environment): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || rest.length > 0) throw new InvalidRequestError("Usage: warren image inspect NAME");
  const images = catalog(env);
  const image = images.find(name);
  if (image.digest === undefined) {
    process.stdout.write(`${JSON.stringify({ ...imageInfo(image, images.store), rootfs: image.rootfs, binds: image.binds, env: image.env }, null, 2)}\n`);
    return 0;
  }
  const stored = images.store.require(name);
  process.stdout.write(`${JSON.stringify({ ...stored.record, rootfs: stored.rootfs, content: images.store.content(stored.hex) }, null, 2)}\n`);
  return 0;
}
