import type { Readable } from "node:stream";
import type { SandboxSettings } from "../../config/settings.js";
import { WarrenError } from "../../errors.js";
import { openSandboxHost } from "../sandbox-host.js";
import { detectVersionsInContainer } from "./container-versions.js";
import { storedImage } from "./installed-images.js";
import { ImageStore, type InstallOptions, type InstallResult } from "./store/store.js";

export interface InstalledImage extends InstallResult {
  /** Why versions could not be detected (no usable sandbox here), if so. */
  readonly versionProblem: string | undefined;
}

/**
 * Imports an image archive into the store under a name, then detects its
 * languages' versions by running their commands inside it, once (stored in
 * the name index). Without a usable sandbox the image is still installed;
 * its versions stay "unknown" and `versionProblem` says why. The sandbox is
 * opened from `sandbox` (its cgroup root and launcher), on `dataDir`.
 */
export async function installImage(dataDir: string, input: Readable, options: InstallOptions, sandbox: SandboxSettings): Promise<InstalledImage> {
  const store = new ImageStore(dataDir);
  const result = await store.install(input, options);
  if (result.record.languages.length === 0) return { ...result, versionProblem: undefined };
  try {
    const host = await openSandboxHost(sandbox, { dataDir, reapStale: false });
    const stored = store.require(result.record.name);
    const versions = await detectVersionsInContainer(storedImage(store, stored), host);
    const record = { ...stored.record, versions };
    store.writeRecord(record);
    return { ...result, record, versionProblem: undefined };
  } catch (error) {
    if (!(error instanceof WarrenError)) throw error;
    return { ...result, versionProblem: error.message };
  }
}
