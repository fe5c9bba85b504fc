/** Collects a stream's bytes up to `cap`; counts the rest without keeping it. */
export class OutputBuffer {
  readonly #cap: number;
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #seen = 0;

  constructor(cap: number) {
    if (!Number.isSafeInteger(cap) || cap < 0) throw new RangeError(`Expected \`cap\` to be a non-negative integer, got \`${cap}\`.`);
    this.#cap = cap;
  }

  push(chunk: Buffer): void {
    this.#seen += chunk.length;
    const room = this.#cap - this.#kept;
    if (room <= 0) return;
    const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.#chunks.push(kept);
    this.#kept += kept.length;
  }

  /** Whether bytes were dropped. */
  get overflowed(): boolean {
    return this.#seen > this.#kept;
  }

  get bytesSeen(): number {
    return this.#seen;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.#chunks, this.#kept);
  }
}
