import { pipeline, Readable, Transform, type TransformCallback } from "node:stream";
import zlib from "node:zlib";
import { Decompress } from "fzstd";
import { ImageCorruptError, WarrenError } from "../../../errors.js";

const MAGIC: readonly { readonly name: string; readonly bytes: readonly number[]; readonly hint: string }[] = [
  { name: "xz", bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a], hint: "xz -d" },
  { name: "bzip2", bytes: [0x42, 0x5a, 0x68], hint: "bzip2 -d" },
];

/**
 * The tar stream inside `input`: gunzipped when it starts with gzip's magic
 * bytes, zstd-decoded (fzstd, pure JS) when it starts with a zstd frame or a
 * skippable frame, as is otherwise. xz and bzip2 are refused with the
 * command that decompresses them (Node has no decoder for them). `what`
 * names the stream in messages.
 */
export async function decompressed(source: Readable, what: string): Promise<Readable> {
  const { head, input } = await peek(source, 6);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = zlib.createGunzip();
    pipeline(input, gunzip, () => {}); // an error of either ends up on `gunzip`, which the caller reads
    return gunzip;
  }
  if (isZstdMagic(head, 0) || isSkippableMagic(head, 0)) {
    const unzstd = new ZstdDecompress(what);
    pipeline(input, unzstd, () => {}); // as for gzip: errors end up on `unzstd`
    return unzstd;
  }
  for (const magic of MAGIC) {
    if (magic.bytes.every((byte, index) => head[index] === byte)) {
      input.destroy();
      throw new ImageCorruptError(`${what} is ${magic.name}-compressed, which Warren cannot read; decompress it first (\`${magic.hint}\`) or use gzip or zstd.`);
    }
  }
  return input;
}

/**
 * The largest window a zstd frame may ask for: 128 MiB, what the zstd tool
 * itself decodes without `--memory`/`--long` (windowLog 27). fzstd allocates
 * the window up front and copies it once per block, so a bigger one would
 * cost memory and time out of proportion to the data.
 */
const ZSTD_MAX_WINDOW = 2 ** 27;
/** No zstd block regenerates or holds more than this (RFC 8878: Block_Maximum_Size ≤ 128 KiB). */
const ZSTD_MAX_BLOCK = 128 * 1024;

/**
 * A Transform decoding a zstd stream (one frame or several, skippable frames
 * skipped) with fzstd. The input is first cut at block boundaries by
 * ZstdFrames, so fzstd decodes one block per push (≤ 128 KiB out), and the
 * next block is decoded only once the reader wants more: memory stays small
 * whatever the compression ratio. Corrupt, unsupported or truncated data
 * fails the stream with ImageCorruptError naming `what`.
 */
class ZstdDecompress extends Transform {
  readonly #what: string;
  readonly #frames: ZstdFrames;
  readonly #decoder: Decompress;
  #output: Uint8Array[] = [];
  /** Resolves the wait for the reader, set while a push() said the buffer is full. */
  #wake: (() => void) | undefined;

  constructor(what: string) {
    super();
    this.#what = what;
    this.#frames = new ZstdFrames(what);
    this.#decoder = new Decompress((data) => {
      if (data.length > 0) this.#output.push(data);
    });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#decode(chunk).then(
      () => callback(),
      (error: unknown) => callback(this.#asCorrupt(error)),
    );
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (!this.#frames.atFrameBoundary()) {
        throw new ImageCorruptError(`${this.#what} is cut short: its zstd data ends inside frame ${this.#frames.frames + 1}.`);
      }
      this.#decoder.push(new Uint8Array(0), true); // fzstd may still hold a few bytes (< 18) of the last frame
      this.#emit();
      callback();
    } catch (error) {
      callback(this.#asCorrupt(error));
    }
  }

  override _read(size: number): void {
    this.#wakeUp();
    super._read(size);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#wakeUp();
    super._destroy(error, callback);
  }

  /** Decodes `chunk` block by block, waiting for the reader whenever the readable side is full. */
  async #decode(chunk: Buffer): Promise<void> {
    for (const piece of this.#frames.split(chunk)) {
      this.#decoder.push(piece);
      if (!this.#emit()) await new Promise<void>((resolve) => (this.#wake = resolve));
      if (this.destroyed) return;
    }
  }

  /** Pushes what fzstd has produced; false when the reader has enough for now. */
  #emit(): boolean {
    let more = true;
    // fzstd hands over a fresh array per block (it keeps its own copy for the window): no copy needed
    for (const data of this.#output) more = this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    this.#output = [];
    return more;
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  #asCorrupt(error: unknown): Error {
    if (error instanceof WarrenError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new ImageCorruptError(`${this.#what} is not valid zstd data (the decoder says: ${message}).`, { cause: error });
  }
}

function isZstdMagic(bytes: Uint8Array, at: number): boolean {
  return bytes[at] === 0x28 && bytes[at + 1] === 0xb5 && bytes[at + 2] === 0x2f && bytes[at + 3] === 0xfd;
}

/** Skippable frames: magic 0x184D2A50 to 0x184D2A5F (little-endian). */
function isSkippableMagic(bytes: Uint8Array, at: number): boolean {
  return (bytes[at]! & 0xf0) === 0x50 && bytes[at + 1] === 0x2a && bytes[at + 2] === 0x4d && bytes[at + 3] === 0x18;
}

type FrameState = "magic" | "frame header" | "skippable size" | "block header" | "block" | "checksum" | "skippable";

/**
 * Walks the frames and blocks of a zstd stream (RFC 8878) without decoding
 * them, to cut it into pieces that each end at most one block, and to refuse
 * up front what fzstd should not be given: windows over ZSTD_MAX_WINDOW,
 * dictionaries, reserved bits and block types, blocks over 128 KiB, bytes
 * after a frame that begin no frame. Knows whether the stream stopped
 * between frames (complete) or inside one (cut short).
 */
class ZstdFrames {
  /** Frames (zstd and skippable) seen to their end. */
  frames = 0;
  #state: FrameState = "magic";
  /** Header bytes gathered so far (a frame header is at most 18 bytes). */
  readonly #head = Buffer.alloc(18);
  #have = 0;
  #need = 4;
  /** Bytes left of a block's content, a checksum or a skippable frame. */
  #skip = 0;
  #checksum = false;
  #lastBlock = false;
  #blockEnded = false;

  constructor(readonly what: string) {}

  atFrameBoundary(): boolean {
    return this.#state === "magic" && this.#have === 0;
  }

  /** `chunk` as consecutive pieces, each ending where a block ends or where the chunk does. */
  split(chunk: Buffer): Buffer[] {
    const pieces: Buffer[] = [];
    let start = 0;
    let at = 0;
    while (at < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - at);
        at += n;
        this.#skip -= n;
        if (this.#skip === 0) this.#contentDone();
      } else {
        const n = Math.min(this.#need - this.#have, chunk.length - at);
        chunk.copy(this.#head, this.#have, at, at + n);
        this.#have += n;
        at += n;
        if (this.#have === this.#need) this.#headerDone();
      }
      if (this.#blockEnded) {
        this.#blockEnded = false;
        pieces.push(chunk.subarray(start, at));
        start = at;
      }
    }
    if (start < chunk.length) pieces.push(chunk.subarray(start));
    return pieces;
  }

  #headerDone(): void {
    const head = this.#head;
    switch (this.#state) {
      case "magic":
        if (isZstdMagic(head, 0)) return this.#expect("frame header", 6, false); // magic, descriptor, at least one more byte
        if (isSkippableMagic(head, 0)) return this.#expect("skippable size", 8, false);
        throw new ImageCorruptError(
          this.frames === 0 ? `${this.what} is not valid zstd data (no frame magic at its start).` : `${this.what} is not valid zstd data: the bytes after frame ${this.frames} begin no zstd frame.`,
        );
      case "skippable size":
        return this.#content("skippable", head.readUInt32LE(4));
      case "frame header":
        return this.#frameHeader();
      case "block header": {
        const header = head[0]! | (head[1]! << 8) | (head[2]! << 16);
        const type = (header >> 1) & 3;
        const size = header >>> 3;
        if (type === 3) throw new ImageCorruptError(`${this.what} is not valid zstd data: frame ${this.frames + 1} has a block of the reserved type.`);
        if (size > ZSTD_MAX_BLOCK) throw new ImageCorruptError(`${this.what} is not valid zstd data: frame ${this.frames + 1} has a block of ${size} bytes, more than zstd's 128 KiB.`);
        this.#lastBlock = (header & 1) === 1;
        return this.#content("block", type === 1 ? 1 : size); // an RLE block holds its one byte
      }
      default:
        throw new Error(`zstd frame walker: no header in state ${this.#state}`);
    }
  }

  /** The frame header: descriptor, window descriptor, dictionary id, content size (RFC 8878 3.1.1.1). */
  #frameHeader(): void {
    const head = this.#head;
    const descriptor = head[4]!;
    const singleSegment = (descriptor & 0x20) !== 0;
    const dictionaryBytes = [0, 1, 2, 4][descriptor & 3]!;
    const sizeFlag = descriptor >> 6;
    const sizeBytes = sizeFlag === 0 ? (singleSegment ? 1 : 0) : 1 << sizeFlag;
    const length = 5 + (singleSegment ? 0 : 1) + dictionaryBytes + sizeBytes;
    if (this.#need < length) {
      this.#need = length;
      return;
    }
    const frame = `frame ${this.frames + 1}`;
    if ((descriptor & 0x08) !== 0) throw new ImageCorruptError(`${this.what} is not valid zstd data: ${frame} sets a reserved header bit.`);
    let at = singleSegment ? 5 : 6;
    const dictionary = dictionaryBytes === 0 ? 0 : head.readUIntLE(at, dictionaryBytes);
    at += dictionaryBytes;
    if (dictionary !== 0) throw new ImageCorruptError(`${this.what} needs zstd dictionary ${dictionary} (${frame}), which Warren does not have; recompress it without a dictionary.`);
    let window: number;
    if (singleSegment) {
      // the window is the whole content: its size, 1 to 8 bytes (2: plus 256)
      window = sizeBytes === 8 ? head.readUInt32LE(at) + head.readUInt32LE(at + 4) * 2 ** 32 : head.readUIntLE(at, sizeBytes) + (sizeBytes === 2 ? 256 : 0);
    } else {
      const exponent = head[5]! >> 3;
      const base = 2 ** (10 + exponent);
      window = base + (base / 8) * (head[5]! & 7);
    }
    if (window > ZSTD_MAX_WINDOW) {
      throw new ImageCorruptError(`${this.what} is zstd data whose ${frame} needs a ${formatMiB(window)} window, more than the ${formatMiB(ZSTD_MAX_WINDOW)} Warren decodes; recompress it without --long or --ultra.`, {
        details: { window, maxWindow: ZSTD_MAX_WINDOW },
      });
    }
    this.#checksum = (descriptor & 0x04) !== 0;
    this.#expect("block header", 3, true);
  }

  #content(state: "block" | "checksum" | "skippable", bytes: number): void {
    this.#state = state;
    this.#have = 0;
    this.#skip = bytes;
    if (bytes === 0) this.#contentDone();
  }

  #contentDone(): void {
    switch (this.#state) {
      case "block":
        this.#blockEnded = true;
        if (!this.#lastBlock) return this.#expect("block header", 3, true);
        if (this.#checksum) return this.#content("checksum", 4);
        return this.#frameDone();
      case "checksum":
      case "skippable":
        return this.#frameDone();
      default:
        throw new Error(`zstd frame walker: no content in state ${this.#state}`);
    }
  }

  #frameDone(): void {
    this.frames++;
    this.#expect("magic", 4, true);
  }

  #expect(state: FrameState, bytes: number, fresh: boolean): void {
    this.#state = state;
    this.#need = bytes;
    if (fresh) this.#have = 0;
  }
}

function formatMiB(bytes: number): string {
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
}

/**
 * Reads up to `n` bytes from the start of `input` and puts them back; when
 * `input` ended meanwhile (it is shorter than `n`), a new stream of them
 * stands in for it (unshift after the end would lose them).
 */
async function peek(input: Readable, n: number): Promise<{ head: Buffer; input: Readable }> {
  const chunks: Buffer[] = [];
  let length = 0;
  let ended = false;
  while (length < n && !ended) {
    const chunk = input.read() as Buffer | null;
    if (chunk !== null) {
      chunks.push(chunk);
      length += chunk.length;
      continue;
    }
    ended = await nextEvent(input);
  }
  const head = Buffer.concat(chunks);
  if (ended) return { head, input: Readable.from(head.length > 0 ? [head] : []) };
  if (head.length > 0) input.unshift(head);
  return { head, input };
}

/** Waits for more data (false) or the end (true); rejects on an error. */
function nextEvent(input: Readable): Promise<boolean> {
  if (input.readableEnded) return Promise.resolve(true);
  // A stream that failed before we started reading emits nothing more (mmdebstrap exiting at once).
  // (streamx streams, tar-stream's, have no `errored`: undefined.)
  const errored: unknown = input.errored;
  if (errored !== null && errored !== undefined) return Promise.reject(errored);
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      input.off("readable", onReadable);
      input.off("end", onEnd);
      input.off("error", onError);
    };
    const onReadable = () => {
      cleanup();
      resolve(input.readableEnded);
    };
    const onEnd = () => {
      cleanup();
      resolve(true);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    input.on("readable", onReadable);
    input.on("end", onEnd);
    input.on("error", onError);
  });
}
