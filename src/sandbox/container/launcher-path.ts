import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LauncherNotFoundError } from "../../errors.js";

/**
 * The package root: this file is src/sandbox/container/launcher-path.ts when run
 * from source and dist/sandbox/container/launcher-path.js when built, three levels down either way.
 */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Where `make -C src/sandbox/native` puts the launcher. */
export const BUILT_LAUNCHER = path.join(PACKAGE_ROOT, "src", "sandbox", "native", "build", "warren-launch");

/** The launcher binary: WARREN_LAUNCHER when set, else the one built in the package. */
export function launcherPath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.WARREN_LAUNCHER;
  return override !== undefined && override !== "" ? path.resolve(override) : BUILT_LAUNCHER;
}

/** The launcher binary, checked to exist and be executable. Throws LauncherNotFoundError. */
export function requireLauncher(env: NodeJS.ProcessEnv = process.env): string {
  const file = launcherPath(env);
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    throw new LauncherNotFoundError(file);
  }
  return file;
}
