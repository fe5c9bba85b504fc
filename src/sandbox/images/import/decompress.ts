import { pipeline, type Readable } from "node:stream";
import zlib from "node:zlib";
import { ImageCorruptError } from "../../../errors.js";

const MAGIC: readonly { readonly name: string; readonly bytes: readonly number[]; readonly hint: string }[] = [
  { name: "zstd", bytes: [0x28, 0xb5, 0x2f, 0xfd], hint: "zstd -d" },
  { name: "xz", bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a], hint: "xz -d" },
  { name: "bzip2", bytes: [0x42, 0x5a, 0x68], hint: "bzip2 -d" },
];

/**
 * The tar stream inside `input`: gunzipped when it starts with gzip's magic
 * bytes, as is otherwise. zstd, xz and bzip2 are refused with the command
 * that decompresses them (Node has no decoder for them). `what` names the
 * stream in messages.
 */
export async function decompressed(input: Readable, what: string): Promise<Readable> {
  const head = await peek(input, 6);
  if (head[0] === 0x1f && head[1] === 0x8b) {
    const gunzip = zlib.createGunzip();
    pipeline(input, gunzip, () => {}); // an error of either ends up on `gunzip`, which the caller reads
    return gunzip;
  }
  for (const magic of MAGIC) {
    if (magic.bytes.every((byte, index) => head[index] === byte)) {
      input.destroy();
      throw new ImageCorruptError(`${what} is ${magic.name}-compressed, which Warren cannot read; decompress it first (\`${magic.hint}\`) or use gzip.`);
    }
  }
  return input;
}

/** Reads up to `n` bytes from the start of `input` and puts them back. */
async function peek(input: Readable, n: number): Promise<Buffer> {
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
  if (head.length > 0) input.unshift(head);
  return head;
}

/** Waits for more data (false) or the end (true); rejects on an error. */
function nextEvent(input: Readable): Promise<boolean> {
  if (input.readableEnded) return Promise.resolve(true);
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
