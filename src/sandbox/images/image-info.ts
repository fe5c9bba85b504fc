import type { Image } from "./host-image.js";
import type { ImageStore } from "./store/store.js";

/** One installed image as `warren image ls` and GET /v1/images show it. */
export interface ImageInfo {
  readonly name: string;
  /** sha256:HEX; null for the host image. */
  readonly digest: string | null;
  readonly description: string;
  /** `host`, `import` or `build`. */
  readonly source: string;
  readonly createdAt: string | null;
  /** Bytes of file content; null for the host image. */
  readonly sizeBytes: number | null;
  readonly files: number | null;
  readonly languages: readonly { readonly id: string; readonly version: string }[];
}

export function imageInfo(image: Image, store: ImageStore): ImageInfo {
  const languages = image.languages.map((language) => ({ id: language.id, version: language.version.detected }));
  const stored = image.digest === undefined ? undefined : store.get(image.name);
  if (stored === undefined) {
    return { name: image.name, digest: null, description: "The host's own /usr, bound read-only", source: "host", createdAt: null, sizeBytes: null, files: null, languages };
  }
  let content: { bytes: number; files: number } | undefined;
  try {
    content = store.content(stored.hex);
  } catch {
    content = undefined; // removed meanwhile
  }
  return {
    name: image.name,
    digest: stored.record.digest,
    description: stored.record.description,
    source: stored.record.source.kind,
    createdAt: stored.record.createdAt,
    sizeBytes: content?.bytes ?? null,
    files: content?.files ?? null,
    languages,
  };
}
