/**
 * JSON.stringify that never builds one giant string: the JSON is written
 * into Buffers of about CHUNK bytes, a long string escaped SLICE characters
 * at a time. A result's JSON can be longer than the longest string V8 can
 * make (2^29 - 24 characters: 90 MB of control characters, escaped as
 * \u00XX, are past it), and a string that long would sit in the JS heap.
 * The bytes are JSON.stringify's, `indent` included.
 */

/** Characters of a string escaped at once. */
const SLICE = 64 * 1024;
/** Characters of small pieces gathered before they become a Buffer. */
const CHUNK = 64 * 1024;

export interface JsonChunkOptions {
  /** As JSON.stringify's `space` (a number of spaces). @defaultValue none */
  readonly indent?: number;
  /** For tests: characters escaped at once. @defaultValue 64 Ki */
  readonly sliceChars?: number;
}

class ChunkSink {
  readonly chunks: Buffer[] = [];
  #pieces: string[] = [];
  #chars = 0;

  write(text: string): void {
    this.#pieces.push(text);
    this.#chars += text.length;
    if (this.#chars >= CHUNK) this.flush();
  }

  flush(): void {
    if (this.#pieces.length === 0) return;
    // JSON.stringify escapes lone surrogates, so no piece ends or starts half a character.
    this.chunks.push(Buffer.from(this.#pieces.join(""), "utf8"));
    this.#pieces = [];
    this.#chars = 0;
  }
}

/** `value`'s JSON (as JSON.stringify(value, null, indent) writes it) in chunks. Throws as JSON.stringify does on a cycle or a BigInt. */
export function jsonChunks(value: unknown, options: JsonChunkOptions = {}): Buffer[] {
  const sink = new ChunkSink();
  const slice = options.sliceChars ?? SLICE;
  if (!(slice >= 2)) throw new RangeError(`Expected sliceChars to be at least 2, got ${slice}.`);
  const unit = " ".repeat(Math.max(0, Math.min(10, Math.floor(options.indent ?? 0))));
  const seen = new Set<object>();

  const writeString = (text: string) => {
    if (text.length <= slice) {
      sink.write(JSON.stringify(text));
      return;
    }
    sink.write('"');
    for (let at = 0; at < text.length; ) {
      let end = Math.min(at + slice, text.length);
      // Keep a surrogate pair in one slice, so the bytes are JSON.stringify's (split, each half would be escaped).
      const last = text.charCodeAt(end - 1);
      if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
      sink.write(JSON.stringify(text.slice(at, end)).slice(1, -1));
      at = end;
    }
    sink.write('"');
  };

  /** What JSON.stringify writes for `value` under `key`: its toJSON() when it has one. */
  const resolve = (value: unknown, key: string): unknown =>
    typeof value === "object" && value !== null && typeof (value as { toJSON?: unknown }).toJSON === "function" ? (value as { toJSON: (key: string) => unknown }).toJSON(key) : value;
  /** Whether JSON.stringify leaves `value` out (of an object; null in an array). */
  const omitted = (value: unknown) => value === undefined || typeof value === "function" || typeof value === "symbol";

  /** Writes a resolved, not omitted value. */
  const write = (value: unknown, indent: string): void => {
    if (typeof value === "string") return writeString(value);
    if (typeof value === "bigint") throw new TypeError("Do not know how to serialize a BigInt");
    if (typeof value !== "object" || value === null || value instanceof Number || value instanceof String || value instanceof Boolean) {
      sink.write(JSON.stringify(value));
      return;
    }
    if (seen.has(value)) throw new TypeError("Converting circular structure to JSON");
    seen.add(value);
    const inner = indent + unit;
    const open = unit === "" ? "" : `\n${inner}`;
    const close = unit === "" ? "" : `\n${indent}`;
    if (Array.isArray(value)) {
      if (value.length === 0) sink.write("[]");
      else {
        sink.write("[");
        value.forEach((item, index) => {
          sink.write(index === 0 ? open : `,${open}`);
          const resolved = resolve(item, String(index));
          if (omitted(resolved)) sink.write("null");
          else write(resolved, inner);
        });
        sink.write(`${close}]`);
      }
    } else {
      let first = true;
      for (const name of Object.keys(value)) {
        const resolved = resolve((value as Record<string, unknown>)[name], name);
        if (omitted(resolved)) continue;
        sink.write(`${first ? `{${open}` : `,${open}`}${JSON.stringify(name)}:${unit === "" ? "" : " "}`);
        first = false;
        write(resolved, inner);
      }
      sink.write(first ? "{}" : `${close}}`);
    }
    seen.delete(value);
  };

  const top = resolve(value, "");
  if (omitted(top)) return [];
  write(top, "");
  sink.flush();
  return sink.chunks;
}

/** `value`'s JSON as one Buffer (outside the JS heap). */
export function jsonBuffer(value: unknown, options: JsonChunkOptions = {}): Buffer {
  // A small plain value (every result of a short run, every queued or running header) is one JSON.stringify:
  // the same bytes, several times faster than writing it piece by piece.
  if (options.sliceChars === undefined && isSmallPlain(value, { chars: ONE_PIECE_CHARS }, 0)) {
    const text = JSON.stringify(value, null, options.indent);
    return text === undefined ? Buffer.alloc(0) : Buffer.from(text, "utf8");
  }
  const chunks = jsonChunks(value, options);
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
}

/** Characters of strings (keys and values) up to which a value's JSON is made in one piece: at most 6 Mi characters escaped. */
const ONE_PIECE_CHARS = 1 << 20;
/** Depth past which a value is written piece by piece (which also finds a cycle). */
const ONE_PIECE_DEPTH = 32;

/** Whether `value` is plain data (no toJSON, no cycle, not too deep) with at most `budget.chars` characters of strings in all. */
function isSmallPlain(value: unknown, budget: { chars: number }, depth: number): boolean {
  if (typeof value === "string") return (budget.chars -= value.length) >= 0;
  if (typeof value !== "object" || value === null) return true;
  if (depth >= ONE_PIECE_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === "function") return false;
  if (Array.isArray(value)) {
    for (const item of value) if (!isSmallPlain(item, budget, depth + 1)) return false;
    return true;
  }
  for (const name in value) {
    if (!Object.hasOwn(value, name)) continue;
    if ((budget.chars -= name.length) < 0 || !isSmallPlain((value as Record<string, unknown>)[name], budget, depth + 1)) return false;
  }
  return true;
}
