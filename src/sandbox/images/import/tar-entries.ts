import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import tar, { type Extract, type Header } from "tar-stream";
import { ImageCorruptError, WarrenError } from "../../../errors.js";

export type { Header };

/** An entry's content (a streamx stream of tar-stream): read it with `for await`, or drop it with resume(). */
export interface EntryBody extends AsyncIterable<Uint8Array> {
  resume(): unknown;
}

export type EntryHandler = (header: Header, body: EntryBody) => Promise<void>;

/**
 * Streams the tar archive `input` entry by entry through `onEntry` (one at a
 * time: the next entry is read only once the handler is done). Resolves with
 * the sha256 of the tar stream. A truncated or malformed archive rejects
 * with ImageCorruptError naming `what`; an error of the handler rejects as is.
 */
export async function forEachEntry(input: Readable, what: string, onEntry: EntryHandler): Promise<string> {
  const hash = createHash("sha256");
  const extract = tar.extract();
  const feeding = feed(input, extract, hash);
  let handlerError: { error: unknown } | undefined;
  try {
    for await (const entry of extract) {
      try {
        // tar-stream yields Buffers; its streamx types say `unknown`.
        await onEntry(entry.header, entry as unknown as EntryBody);
      } catch (error) {
        handlerError = { error };
        throw error;
      }
      entry.resume();
    }
  } catch (error) {
    input.destroy();
    extract.destroy();
    await feeding;
    // The handler's own errors (a refused entry, a full disk) are not the archive's fault;
    // an entry's stream destroyed under the handler is (the archive ended inside that entry).
    if (handlerError !== undefined && !isStreamError(handlerError.error)) throw handlerError.error;
    throw asCorrupt(handlerError === undefined ? error : new Error("the archive ends inside an entry"), what);
  }
  const fed = await feeding;
  if (fed !== undefined) throw asCorrupt(fed, what);
  return hash.digest("hex");
}

/** Writes `input` into `extract` with backpressure; resolves with the input's error, if any (it also destroys `extract` with it). */
async function feed(input: Readable, extract: Extract, hash: ReturnType<typeof createHash>): Promise<Error | undefined> {
  try {
    for await (const chunk of input) {
      hash.update(chunk as Buffer);
      if (destroying(extract)) return undefined;
      if (!extract.write(chunk as Buffer)) await drained(extract);
      if (destroying(extract)) return undefined;
    }
    extract.end(undefined);
    return undefined;
  } catch (error) {
    extract.destroy(error as Error);
    return error as Error;
  }
}

/** Whether `extract` is destroyed or on its way there (streamx: its 'close' may have been emitted already). */
function destroying(extract: Extract): boolean {
  return extract.destroyed || (extract as unknown as { destroying?: boolean }).destroying === true;
}

/** Resolves once `extract` takes writes again or is destroyed; at once when it is destroying (a 'close' already emitted never comes again). */
function drained(extract: Extract): Promise<void> {
  if (destroying(extract)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      extract.off("drain", done);
      extract.off("close", done);
      resolve();
    };
    extract.on("drain", done);
    extract.on("close", done);
  });
}

function asCorrupt(error: unknown, what: string): Error {
  if (error instanceof WarrenError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ImageCorruptError(`${what} is cut short or is not a tar archive (${message}).`, { cause: error });
}

/** streamx's error for a stream destroyed while being read. */
function isStreamError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === "STREAM_DESTROYED";
}
