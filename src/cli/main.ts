import type { Environment } from "../config/settings.js";
import { WarrenError } from "../errors.js";
import { doctorCommand } from "./doctor.js";
import { fnCommand } from "./fn.js";
import { EXIT_USAGE, EXIT_WARREN_FAILED } from "./exit-code.js";
import { imageCommand } from "./image.js";
import { languagesCommand } from "./languages.js";
import { runCommand } from "./run.js";
import { serveCommand } from "./serve.js";
import { setupCgroupsCommand } from "./setup-cgroups.js";
import { workerCommand } from "./worker.js";

const USAGE = `Usage: warren <command> [options]

Commands:
  run FILE...            run a program in a sandbox (warren run --help)
  serve [--port N] [--no-worker]  the HTTP API, with an embedded worker (warren serve --help)
  worker                 a queue worker for distributed mode (needs REDIS_URL)
  languages              list the languages and their versions, of every installed image
  image import|build|ls|inspect|rm   manage images (warren image --help)
  fn deploy|invoke|ls|rm deployed functions on a server (warren fn --help)
  doctor                 check that this host can run sandboxes rootless
  setup-cgroups --user U delegate a cgroup subtree to user U (as root, once)

Environment: WARREN_DATA_DIR (images, state), WARREN_CGROUP_ROOT (the delegated cgroup),
WARREN_LAUNCHER (the launcher binary), PORT, REDIS_URL, WARREN_API_KEYS, WARREN_CONCURRENCY
(README.md's Configuration lists them all).`;

const IMAGE_INPUT_CODES = new Set(["image_rejected", "image_corrupt", "image_too_large", "image_not_found", "image_in_use", "registry_not_found", "registry_auth_failed", "registry_unreachable", "registry_error"]);

/** Each command parses its arguments, then its settings from `env` (loadSettings), once, and hands them down. */
const commands: Record<string, (argv: string[], env: Environment) => Promise<number>> = {
  run: runCommand,
  languages: languagesCommand,
  image: imageCommand,
  doctor: doctorCommand,
  serve: serveCommand,
  worker: workerCommand,
  "setup-cgroups": setupCgroupsCommand,
  fn: fnCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`warren: unknown command ${JSON.stringify(name)}.\n\n${USAGE}\n`);
    return EXIT_USAGE;
  }
  try {
    // The one read of the environment: nothing below the commands reads process.env (test/config/env-reads.test.ts).
    return await command(rest, process.env);
  } catch (error) {
    if (error instanceof WarrenError) {
      process.stderr.write(`${error.message}\n`);
      if (error.code === "invalid_request" || error.code === "unknown_language" || error.code === "invalid_file_path") return EXIT_USAGE;
      // An archive refused, an image missing or in use, a registry failing: the input's fault, not Warren's.
      return IMAGE_INPUT_CODES.has(error.code) ? 1 : EXIT_WARREN_FAILED;
    }
    const hint = systemErrorHint(error);
    if (hint !== undefined) {
      process.stderr.write(`warren ${name}: ${hint}\n`);
      return EXIT_WARREN_FAILED;
    }
    throw error;
  }
}

/** A message a person can act on for the host's own refusals (a full disk, a read-only or forbidden path). */
function systemErrorHint(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined; // not a system error: rethrown as it is
  const e = error as NodeJS.ErrnoException;
  const where = typeof e.path === "string" ? ` (${e.path})` : "";
  switch (e.code) {
    case "ENOSPC":
    case "EDQUOT":
      return `the disk is full${where}: free space where WARREN_DATA_DIR and the temp dir live, then retry. Nothing half-made was kept.`;
    case "EROFS":
      return `a read-only file system${where}: point WARREN_DATA_DIR at a writable directory.`;
    case "EACCES":
    case "EPERM":
      return `permission denied${where}: check that this user owns WARREN_DATA_DIR (or run \`warren doctor\`).`;
    default:
      return undefined;
  }
}

process.exitCode = await main(process.argv.slice(2));
