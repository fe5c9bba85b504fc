import type { SerializedResult } from "../run/result-json.js";
import { isFinal } from "../run/result.js";

export interface ResultStoreLimits {
  /** How long a result is kept after it was last written. */
  readonly ttlMs: number;
  /** Most results kept. */
  readonly max: number;
  /** Most JSON bytes kept, all results together (WARREN_RESULT_STORE_BYTES). */
  readonly maxBytes: number;
}

/**
 * Embedded mode's results, as their JSON bytes (Buffers, outside the JS
 * heap). Kept `ttlMs`; finished ones at most `maxBytes` in all, and at most
 * `max` results in all. Past either, the oldest finished results go first,
 * and never the result just stored (it may exceed `maxBytes` alone). A
 * queued or running result is a small header and not counted in bytes: it
 * goes only past `max`, when no finished one is left (as Redis counts too).
 */
export class ResultStore {
  /** Finished results, oldest write first (a Map keeps insertion order). */
  readonly #final = new Map<string, Entry>();
  /** Queued and running results, oldest write first. */
  readonly #pending = new Map<string, Entry>();
  readonly #limits: ResultStoreLimits;
  #bytes = 0;

  constructor(limits: ResultStoreLimits) {
    const { ttlMs, max, maxBytes } = limits;
    if (!(ttlMs > 0) || !(max >= 1) || !(maxBytes >= 1)) throw new RangeError(`ResultStore needs ttlMs > 0, max >= 1 and maxBytes >= 1, got ${ttlMs}, ${max} and ${maxBytes}.`);
    this.#limits = limits;
  }

  /** Results kept now. */
  get size(): number {
    return this.#final.size + this.#pending.size;
  }

  /** The JSON bytes of the finished results. */
  get bytes(): number {
    return this.#bytes;
  }

  get(id: string): SerializedResult | undefined {
    const map = this.#final.has(id) ? this.#final : this.#pending;
    const entry = map.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#remove(map, id);
      return undefined;
    }
    return entry.result;
  }

  set(result: SerializedResult): void {
    // Re-inserting keeps each Map in write order, so its first key is its oldest.
    this.#remove(this.#final, result.id);
    this.#remove(this.#pending, result.id);
    const final = isFinal(result.status);
    (final ? this.#final : this.#pending).set(result.id, { result, expiresAt: Date.now() + this.#limits.ttlMs });
    if (final) this.#bytes += result.json.length;
    this.#sweep(result.id);
  }

  #sweep(keep: string): void {
    const now = Date.now();
    // Every entry lives ttlMs from its last write, so in each Map the expired ones come first.
    for (const map of [this.#final, this.#pending]) {
      for (const [id, entry] of map) {
        if (entry.expiresAt > now) break;
        if (id !== keep) this.#remove(map, id);
      }
    }
    while (this.#bytes > this.#limits.maxBytes) {
      const victim = oldestBut(this.#final, keep);
      if (victim === undefined) break; // only the result just stored is left
      this.#remove(this.#final, victim);
    }
    while (this.size > this.#limits.max) {
      const final = oldestBut(this.#final, keep);
      const victim = final ?? oldestBut(this.#pending, keep);
      if (victim === undefined) return;
      this.#remove(final === undefined ? this.#pending : this.#final, victim);
    }
  }

  #remove(map: Map<string, Entry>, id: string): void {
    const entry = map.get(id);
    if (entry === undefined) return;
    map.delete(id);
    if (map === this.#final) this.#bytes -= entry.result.json.length;
  }
}

interface Entry {
  readonly result: SerializedResult;
  readonly expiresAt: number;
}

function oldestBut(map: Map<string, Entry>, keep: string): string | undefined {
  for (const id of map.keys()) if (id !== keep) return id;
  return undefined;
}
