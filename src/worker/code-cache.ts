import type { StoredCode } from "../queue/function-store.js";

/**
 * Functions' code and builds this worker has fetched, by digest (content-
 * addressed: a digest's code never changes, so nothing is ever stale), the
 * least recently used dropped past `maxBytes`. One fetch per digest at once.
 */
export class CodeCache {
  readonly #entries = new Map<string, { readonly code: StoredCode; readonly bytes: number }>();
  readonly #fetching = new Map<string, Promise<StoredCode | undefined>>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(maxBytes: number) {
    if (!(maxBytes > 0)) throw new RangeError(`Expected maxBytes to be positive, got ${maxBytes}.`);
    this.#maxBytes = maxBytes;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  async get(digest: string, fetch: () => Promise<StoredCode | undefined>): Promise<StoredCode | undefined> {
    const hit = this.#entries.get(digest);
    if (hit !== undefined) {
      // Re-inserted: a Map keeps insertion order, so its first key is the least recently used.
      this.#entries.delete(digest);
      this.#entries.set(digest, hit);
      return hit.code;
    }
    let pending = this.#fetching.get(digest);
    if (pending === undefined) {
      pending = fetch().finally(() => this.#fetching.delete(digest));
      this.#fetching.set(digest, pending);
      const code = await pending;
      if (code !== undefined) this.#keep(digest, code);
      return code;
    }
    return pending;
  }

  #keep(digest: string, code: StoredCode): void {
    const bytes = [...code.files, ...(code.build ?? [])].reduce((sum, file) => sum + file.content.length + file.path.length, 0);
    // A code larger than the whole cache is used once and not kept.
    if (bytes > this.#maxBytes) return;
    this.#entries.set(digest, { code, bytes });
    this.#bytes += bytes;
    for (const [victim, entry] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(victim);
      this.#bytes -= entry.bytes;
    }
  }
}
