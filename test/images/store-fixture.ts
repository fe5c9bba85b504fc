import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { ImageStore, type InstallOptions } from "../../src/sandbox/images/store/store.js";

/** A fresh data dir (its own image store) per test: images installed here never reach other suites. */
export function freshStore(): { store: ImageStore; dataDir: string; cleanup: () => void } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-images-test-"));
  fs.chmodSync(dataDir, 0o755);
  return { store: new ImageStore(dataDir), dataDir, cleanup: () => fs.rmSync(dataDir, { recursive: true, force: true }) };
}

export function install(store: ImageStore, archive: Buffer, options: Partial<InstallOptions> = {}) {
  return store.install(Readable.from([archive]), { name: "test", source: { kind: "import", detail: "test" }, ...options });
}

/** Everything under `dir`, as sorted relative paths (what a failed import must not leave). */
export function listTree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}
