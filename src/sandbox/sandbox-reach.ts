import fs from "node:fs";
import path from "node:path";
import { SandboxError } from "../errors.js";
import { isHostRoot } from "./container-signs.js";

/** The host uid a root launcher maps sandboxes to (docs/launcher.md `--sandbox-uid`). */
export const ROOT_SANDBOX_UID = 65534;

/**
 * As root, the launcher opens an image's root as the sandbox user (65534), so
 * every directory above it must let others through. Say so plainly instead of
 * failing every run with "open-rootfs: Permission denied".
 */
export function assertSandboxCanReach(dir: string): void {
  if (!isHostRoot()) return; // rootless (a container's root mapped elsewhere included): the sandbox user is this user
  for (let at = path.resolve(dir); ; at = path.dirname(at)) {
    const stat = fs.statSync(at);
    const through = stat.uid === ROOT_SANDBOX_UID ? (stat.mode & 0o100) !== 0 : (stat.mode & 0o001) !== 0;
    if (!through) {
      throw new SandboxError(
        "container_start_failed",
        `The sandbox user (uid ${ROOT_SANDBOX_UID}) cannot reach ${dir}: ${at} is mode ${(stat.mode & 0o777).toString(8)}. ` +
          `Run \`chmod o+x ${at}\`, or set WARREN_DATA_DIR to a directory whose parents others may enter.`,
      );
    }
    if (at === path.dirname(at)) return;
  }
}
