import type { RunResult } from "../worker/run-result.js";

/** Embedded mode's results: kept `ttlMs`, at most `max` (the oldest go first). */
export class ResultStore {
  readonly #entries = new Map<string, { result: RunResult; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #max: number;

  constructor(ttlMs: number, max: number) {
    if (!(ttlMs > 0) || !(max >= 1)) throw new RangeError(`ResultStore needs ttlMs > 0 and max >= 1, got ${ttlMs} and ${max}.`);
    this.#ttlMs = ttlMs;
    this.#max = max;
  }

  get(id: string): RunResult | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.result;
  }

  set(result: RunResult): void {
    // Re-inserting keeps the Map in write order, so the first key is the oldest.
    this.#entries.delete(result.id);
    this.#entries.set(result.id, { result, expiresAt: Date.now() + this.#ttlMs });
    this.#sweep();
  }

  #sweep(): void {
    const now = Date.now();
    for (const [id, entry] of this.#entries) {
      if (this.#entries.size <= this.#max && entry.expiresAt > now) break;
      this.#entries.delete(id);
    }
  }
}
