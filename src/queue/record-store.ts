/**
 * Small JSON records kept beside the results, one namespace per user (the
 * Judge0 API keeps its submissions' own fields here: what a RunResult does
 * not carry). Bounded like the results: each record for `ttlMs` after it was
 * created, at most `max` records and `maxBytes` bytes per namespace; past
 * either, the oldest go first (never the one just written).
 */
export interface RecordStore {
  /** Creates or replaces a record (its age, and so its place in `page`, is its first write's). */
  put(id: string, json: string): Promise<void>;
  /** Replaces a record only if it is still there (a removed or evicted one stays gone); false when it was not. */
  update(id: string, json: string): Promise<boolean>;
  get(id: string): Promise<string | undefined>;
  /** false when there was none. */
  remove(id: string): Promise<boolean>;
  /** Ids newest first, from `offset`, at most `count`; and how many records there are. */
  page(offset: number, count: number): Promise<{ readonly ids: readonly string[]; readonly total: number }>;
}

export interface RecordStoreLimits {
  readonly ttlMs: number;
  readonly max: number;
  readonly maxBytes: number;
}

interface Entry {
  readonly json: string;
  readonly createdAt: number;
}

/** Embedded mode's records, in memory. */
export class MemoryRecordStore implements RecordStore {
  /** Oldest first (a Map keeps insertion order; a replaced record keeps its place). */
  readonly #entries = new Map<string, Entry>();
  readonly #limits: RecordStoreLimits;
  #bytes = 0;

  constructor(limits: RecordStoreLimits) {
    if (!(limits.ttlMs > 0) || !(limits.max >= 1) || !(limits.maxBytes >= 1)) throw new RangeError(`A RecordStore needs ttlMs > 0, max >= 1 and maxBytes >= 1.`);
    this.#limits = limits;
  }

  async put(id: string, json: string): Promise<void> {
    this.#expire();
    const old = this.#entries.get(id);
    if (old !== undefined) this.#bytes -= old.json.length;
    this.#entries.set(id, { json, createdAt: old?.createdAt ?? Date.now() });
    this.#bytes += json.length;
    for (const [oldest] of this.#entries) {
      if (this.#entries.size <= this.#limits.max && this.#bytes <= this.#limits.maxBytes) break;
      if (oldest === id) continue;
      this.#delete(oldest);
    }
  }

  async update(id: string, json: string): Promise<boolean> {
    this.#expire();
    if (!this.#entries.has(id)) return false;
    await this.put(id, json);
    return true;
  }

  async get(id: string): Promise<string | undefined> {
    this.#expire();
    return this.#entries.get(id)?.json;
  }

  async remove(id: string): Promise<boolean> {
    const had = this.#entries.has(id);
    this.#delete(id);
    return had;
  }

  async page(offset: number, count: number): Promise<{ ids: string[]; total: number }> {
    this.#expire();
    const ids = [...this.#entries.keys()].reverse();
    return { ids: ids.slice(offset, offset + count), total: ids.length };
  }

  #delete(id: string): void {
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    this.#bytes -= entry.json.length;
    this.#entries.delete(id);
  }

  #expire(): void {
    const horizon = Date.now() - this.#limits.ttlMs;
    for (const [id, entry] of this.#entries) {
      if (entry.createdAt > horizon) break;
      this.#delete(id);
    }
  }
}
