/**
 * A number of bytes that several OutputBuffers draw from together: one
 * execution's stdout and stderr share the bytes Warren may keep of it
 * (ExecRequest.keepBytes), first come first kept.
 */
export class ByteAllowance {
  #left: number;

  constructor(bytes: number) {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`Expected \`bytes\` to be a non-negative integer, got \`${bytes}\`.`);
    this.#left = bytes;
  }

  get left(): number {
    return this.#left;
  }

  /** Takes up to `wanted` bytes; returns how many were granted. */
  take(wanted: number): number {
    const granted = Math.min(wanted, this.#left);
    this.#left -= granted;
    return granted;
  }
}

/**
 * Collects a stream's bytes up to `cap` (and, when given, what is left of a
 * shared allowance); counts the rest without keeping it.
 */
export class OutputBuffer {
  readonly #cap: number;
  readonly #shared: ByteAllowance | undefined;
  readonly #chunks: Buffer[] = [];
  #kept = 0;
  #seen = 0;

  constructor(cap: number, shared?: ByteAllowance) {
    if (!Number.isSafeInteger(cap) || cap < 0) throw new RangeError(`Expected \`cap\` to be a non-negative integer, got \`${cap}\`.`);
    this.#cap = cap;
    this.#shared = shared;
  }

  push(chunk: Buffer): void {
    this.#seen += chunk.length;
    const own = Math.min(chunk.length, this.#cap - this.#kept);
    const room = own <= 0 ? 0 : this.#shared === undefined ? own : this.#shared.take(own);
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

  /** Bytes seen but not kept. */
  get bytesDropped(): number {
    return this.#seen - this.#kept;
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.#chunks, this.#kept);
  }
}
