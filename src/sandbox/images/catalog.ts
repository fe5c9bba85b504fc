import fs from "node:fs";
import { ImageNotFoundError } from "../../errors.js";
import type { Image } from "./host-image.js";
import { storedImage } from "./installed-images.js";
import type { Language } from "./languages.js";
import { ImageStore } from "./store/store.js";

/**
 * The installed images as a long-running server sees them: the host image
 * and the store's, re-read whenever the store's name index changes (an
 * image built, imported or removed while the server runs).
 */
export class ImageCatalog {
  readonly store: ImageStore;
  readonly #host: Image;
  #stamp = "";
  #images: readonly Image[] = [];
  readonly #namesDir: string;

  constructor(dataDir: string, host: Image) {
    this.store = new ImageStore(dataDir);
    this.#host = host;
    this.#namesDir = this.store.layout.namesDir;
  }

  /** The host image first, then the stored ones by name. */
  images(): readonly Image[] {
    const stamp = this.#indexStamp();
    if (stamp !== this.#stamp || this.#images.length === 0) {
      this.#images = Object.freeze([this.#host, ...this.store.list().map((stored) => storedImage(this.store, stored))]);
      this.#stamp = stamp;
    }
    return this.#images;
  }

  languages(): Language[] {
    return this.images().flatMap((image) => image.languages);
  }

  /** The image called `name`, or ImageNotFoundError. */
  find(name: string): Image {
    const images = this.images();
    const image = images.find((candidate) => candidate.name === name);
    if (image === undefined) throw new ImageNotFoundError(name, images.map((candidate) => candidate.name));
    return image;
  }

  /**
   * names/ changes (mtime, ns) whenever a name file is added, replaced or
   * removed. Read on every call (a few times a run): a store with no names/ yet
   * (only the host image) is the common case, and is answered without an
   * exception, whose stack alone cost more than the stat.
   */
  #indexStamp(): string {
    try {
      const stat = fs.statSync(this.#namesDir, { bigint: true, throwIfNoEntry: false });
      return stat === undefined ? "none" : `${stat.mtimeNs}:${stat.ino}`;
    } catch {
      return "none";
    }
  }
}

/** The languages a sandbox can run: every installed image's, or its default image's alone. */
export function sandboxLanguages(sandbox: { readonly image: Image; readonly catalog?: ImageCatalog }): Language[] {
  return sandbox.catalog?.languages() ?? [...sandbox.image.languages];
}
