import type { Image } from "./host-image.js";
import type { Language } from "./languages.js";
import type { ImageStore, StoredImage } from "./store/store.js";

/** A stored image as the sandbox uses it: its root, environment and languages with their detected versions. */
export function storedImage(store: ImageStore, stored: StoredImage): Image {
  const { record } = stored;
  const languages = record.languages.map(
    (language): Language =>
      Object.freeze({
        ...language,
        image: record.name,
        version: { ...language.version, detected: "fixed" in language.version ? language.version.fixed : (record.versions[language.id] ?? "unknown") },
      }),
  );
  return Object.freeze({
    name: record.name,
    rootfs: stored.rootfs,
    binds: [],
    env: record.env,
    languages,
    digest: record.digest,
    acquire: () => store.acquire(record.name, stored.hex),
  });
}
