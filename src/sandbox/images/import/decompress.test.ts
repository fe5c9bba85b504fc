import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { PassThrough, Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { tarOf } from "../../../../test/images/archives.js";
import { decompressed } from "./decompress.js";

/* zstd data made by the zstd tool itself (`apt-get install zstd`), decoded by decompressed(). */

/** `data` compressed by /usr/bin/zstd with `args` (from stdin: no content size unless --stream-size). */
function zstd(data: Buffer, ...args: string[]): Buffer {
  return execFileSync("zstd", ["-q", "-c", ...args], { input: data, maxBuffer: 1 << 30 });
}

/** `data` as a stream of chunks of `size` bytes. */
function chunked(data: Buffer, size: number): Readable {
  const chunks: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) chunks.push(data.subarray(at, at + size));
  return Readable.from(chunks);
}

async function decode(input: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await decompressed(input, "The test stream")) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Text-like data that compresses but not trivially: random words over a small alphabet, with runs of zeros. */
function sample(bytes: number): Buffer {
  const words = Array.from({ length: 512 }, () => randomBytes(6).toString("base64url"));
  const parts: Buffer[] = [];
  let length = 0;
  while (length < bytes) {
    const part = length % 7 === 0 ? Buffer.alloc(300) : Buffer.from(`${words[Math.floor(Math.random() * words.length)]} `);
    parts.push(part);
    length += part.length;
  }
  return Buffer.concat(parts).subarray(0, bytes);
}

const block = (type: 0 | 1 | 2 | 3, size: number, last: boolean) => {
  const header = (size << 3) | (type << 1) | (last ? 1 : 0);
  return Buffer.from([header & 0xff, (header >> 8) & 0xff, header >> 16]);
};
/** A frame header by hand: zstd magic, a descriptor, then `rest` (window descriptor, dictionary id, content size). */
const frameHeader = (descriptor: number, ...rest: number[]) => Buffer.from([0x28, 0xb5, 0x2f, 0xfd, descriptor, ...rest]);

describe("decompressed: zstd", () => {
  it("decodes a zstd-compressed tar to the same bytes", async () => {
    const tar = await tarOf([{ name: "etc/" }, { name: "etc/motd", content: "hello\n" }, { name: "bin/tool", content: sample(200_000), mode: 0o755 }]);
    expect((await decode(Readable.from([zstd(tar)]))).equals(tar)).toBe(true);
  });

  it("decodes several frames in a row — checksummed or not, with a content size, empty, and a skippable frame between — even fed a byte at a time", async () => {
    const parts = [sample(50_000), Buffer.alloc(0), sample(300), sample(150_000)];
    const skippable = Buffer.concat([Buffer.from([0x5e, 0x2a, 0x4d, 0x18, 5, 0, 0, 0]), Buffer.from("skip!")]);
    const stream = Buffer.concat([zstd(parts[0]!), zstd(parts[1]!), skippable, zstd(parts[2]!, "--no-check", `--stream-size=${parts[2]!.length}`), zstd(parts[3]!, "-19", "--no-check")]);
    const expected = Buffer.concat(parts);
    expect((await decode(Readable.from([stream]))).equals(expected)).toBe(true);
    expect((await decode(chunked(stream, 1))).equals(expected)).toBe(true);
  });

  it("decodes several MB (level 19, 8 MiB window) fed in small chunks", async () => {
    const data = sample(6 * 1024 * 1024);
    const compressed = zstd(data, "-19");
    expect(compressed.length).toBeLessThan(data.length / 2);
    expect((await decode(chunked(compressed, 999))).equals(data)).toBe(true);
  }, 120_000);

  it("decodes only as fast as it is read (backpressure), whatever the ratio", async () => {
    const size = 64 * 1024 * 1024;
    const compressed = zstd(Buffer.alloc(size)); // a few KB for 64 MiB
    expect(compressed.length).toBeLessThan(64 * 1024);
    const stream = await decompressed(Readable.from([compressed]), "zeros");
    await once(stream, "readable");
    const first = stream.read() as Buffer;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stream.readableLength).toBeLessThan(1024 * 1024); // a block or two, not 64 MiB
    let total = first.length;
    for await (const chunk of stream) total += (chunk as Buffer).length;
    expect(total).toBe(size);
  });

  it("stops, and destroys its input, when the reader goes away while it waits for demand", async () => {
    const input = new PassThrough();
    input.write(zstd(Buffer.alloc(32 * 1024 * 1024))); // not ended: only the reader's going away ends it
    const stream = await decompressed(input, "zeros");
    await once(stream, "readable");
    expect(stream.readableLength).toBeLessThan(1024 * 1024);
    const inputError = new Promise((resolve) => input.once("error", resolve)); // pipeline's: "Premature close"
    const closed = new Promise((resolve) => input.once("close", resolve));
    stream.destroy();
    await closed;
    expect(input.destroyed).toBe(true);
    expect(await inputError).toMatchObject({ code: "ERR_STREAM_PREMATURE_CLOSE" });
  });
});

describe("decompressed: corrupt or truncated zstd fails with image_corrupt, and never hangs", () => {
  const corrupt = (message: RegExp) => expect.objectContaining({ code: "image_corrupt", message: expect.stringMatching(message) });

  it("says a stream cut anywhere — in a frame header, a block, a checksum, the next frame's magic — is cut short", async () => {
    const first = zstd(sample(300_000));
    const stream = Buffer.concat([first, zstd(sample(1000))]);
    for (const cut of [5, 8, 20, Math.floor(first.length / 2), first.length - 2, first.length + 2, stream.length - 1]) {
      await expect(decode(Readable.from([stream.subarray(0, cut)])), `cut at ${cut}`).rejects.toEqual(corrupt(/^The test stream is cut short: its zstd data ends inside frame [12]\.$/));
      await expect(decode(chunked(stream.subarray(0, cut), 4096)), `cut at ${cut}, chunked`).rejects.toEqual(corrupt(/cut short/));
    }
    // only the magic and a frame descriptor (what Warren once refused outright)
    await expect(decode(Readable.from([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0])]))).rejects.toEqual(corrupt(/cut short/));
  });

  it("refuses data fzstd cannot decode, bytes after the last frame, reserved blocks, dictionaries and huge windows", async () => {
    const hello = Buffer.concat([frameHeader(0x00, 0x58), block(0, 5, true), Buffer.from("hello")]);
    expect((await decode(Readable.from([hello]))).toString()).toBe("hello");
    await expect(decode(Readable.from([Buffer.concat([frameHeader(0x00, 0x58), block(2, 16, true), Buffer.alloc(16, 0xff)])]))).rejects.toEqual(
      corrupt(/^The test stream is not valid zstd data \(the decoder says: invalid zstd data\)\.$/),
    );
    await expect(decode(Readable.from([Buffer.concat([zstd(sample(1000)), Buffer.from("trailing garbage")])]))).rejects.toEqual(corrupt(/the bytes after frame 1 begin no zstd frame/));
    await expect(decode(Readable.from([Buffer.concat([frameHeader(0x00, 0x58), block(3, 5, true), Buffer.from("hello")])]))).rejects.toEqual(corrupt(/block of the reserved type/));
    await expect(decode(Readable.from([Buffer.concat([frameHeader(0x01, 0x58, 7), block(0, 5, true), Buffer.from("hello")])]))).rejects.toEqual(corrupt(/needs zstd dictionary 7/));
    // window descriptor 0x90: 2^28 = 256 MiB; 0x88 (128 MiB, zstd's own default limit) is still fine
    await expect(decode(Readable.from([Buffer.concat([frameHeader(0x00, 0x90), block(0, 5, true), Buffer.from("hello")])]))).rejects.toEqual(corrupt(/needs a 256 MiB window, more than the 128 MiB/));
    expect((await decode(Readable.from([Buffer.concat([frameHeader(0x00, 0x88), block(0, 5, true), Buffer.from("hello")])]))).toString()).toBe("hello");
  });

  it("passes on an error of its input", async () => {
    const input = new PassThrough();
    input.write(zstd(sample(100_000)).subarray(0, 1000));
    const stream = await decompressed(input, "The test stream");
    setTimeout(() => input.destroy(new Error("disk on fire")), 10);
    await expect((async () => {
      for await (const _ of stream);
    })()).rejects.toThrow(/disk on fire/);
  });
});
