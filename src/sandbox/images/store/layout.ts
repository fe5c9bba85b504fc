import path from "node:path";

/**
 * Where the image store keeps things, under WARREN_DATA_DIR/images
 * (docs/images.md):
 *
 *     host/                   the host image's generated skeleton (host-image.ts)
 *     sha256/HEX/rootfs/      a stored root filesystem, named by its content digest
 *     sha256/HEX/content.json what it was made from (content-schema.ts)
 *     names/NAME.json         the name index: NAME → digest, environment, languages
 *     leases/HEX/LEASE        one file per sandbox using sha256/HEX now
 *     leases/HEX.removing     present while `warren image rm` removes sha256/HEX
 *     tmp/                    imports in progress, and removals on their way out
 *
 * tmp/ is in the same file system as sha256/, so a finished import appears
 * with one rename(2) and a removed image disappears with one.
 */
export class StoreLayout {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, "images");
  }

  get namesDir(): string {
    return path.join(this.root, "names");
  }

  get contentRoot(): string {
    return path.join(this.root, "sha256");
  }

  get tmpDir(): string {
    return path.join(this.root, "tmp");
  }

  /** Blobs of `warren image pull` in flight: HEX.partial while downloading (resumed by the next pull), HEX once verified; deleted once installed. */
  get downloadsDir(): string {
    return path.join(this.root, "downloads", "sha256");
  }

  get leasesRoot(): string {
    return path.join(this.root, "leases");
  }

  nameFile(name: string): string {
    return path.join(this.namesDir, `${name}.json`);
  }

  contentDir(hex: string): string {
    return path.join(this.contentRoot, hex);
  }

  contentFile(hex: string): string {
    return path.join(this.contentDir(hex), "content.json");
  }

  rootfs(hex: string): string {
    return path.join(this.contentDir(hex), "rootfs");
  }

  leasesDir(hex: string): string {
    return path.join(this.leasesRoot, hex);
  }

  removingMarker(hex: string): string {
    return path.join(this.leasesRoot, `${hex}.removing`);
  }
}
