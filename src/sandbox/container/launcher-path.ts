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

/** Where the same build puts libwarren-zygote.so, which a function's zygote loads (bound read-only into its container). */
export const BUILT_NATIVE_DIR = path.dirname(BUILT_LAUNCHER);

/** The launcher binary: `override` (WARREN_LAUNCHER, SandboxSettings.launcher) when given, else the one built in the package. */
export function launcherPath(override?: string): string {
  return override !== undefined ? path.resolve(override) : BUILT_LAUNCHER;
}

/** The launcher binary, checked to exist and be executable. Throws LauncherNotFoundError. */
export function requireLauncher(override?: string): string {
  const file = launcherPath(override);
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    throw new LauncherNotFoundError(file);
  }
  return file;
}
