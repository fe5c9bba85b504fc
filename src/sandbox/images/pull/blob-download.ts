import { createHash } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ImageCorruptError, RegistryError } from "../../../errors.js";
import type { RegistryClient } from "./registry-client.js";

export interface BlobDescriptor {
  readonly digest: string;
  readonly size: number;
  /** For messages: "config", "layer 2". */
  readonly what: string;
}

/** Bytes received so far, per blob (called often; the caller throttles). */
export type ProgressListener = (digest: string, bytes: number) => void;

const ATTEMPTS = 4;

/**
 * Downloads one blob to `dir/HEX`, verified: the bytes go to `dir/HEX.partial`
 * (a partial file left by an interrupted download is resumed with a Range
 * request), and only a file whose sha256 and size match the descriptor is
 * renamed to `dir/HEX`. A dropped connection is retried from where it broke
 * (up to 4 attempts); a digest mismatch deletes the partial file and fails.
 */
export async function downloadBlob(client: RegistryClient, blob: BlobDescriptor, dir: string, onProgress: ProgressListener, signal?: AbortSignal): Promise<string> {
  const hex = /^sha256:([0-9a-f]{64})$/.exec(blob.digest)?.[1];
  if (hex === undefined) throw new ImageCorruptError(`The image's ${blob.what} has the digest ${JSON.stringify(blob.digest)}; Warren reads sha256 digests only.`);
  const done = path.join(dir, hex);
  const partial = `${done}.partial`;
  if (fs.existsSync(done)) {
    onProgress(blob.digest, blob.size);
    return done;
  }
  for (let attempt = 1; ; attempt++) {
    try {
      await fetchInto(client, blob, partial, onProgress, signal);
      break;
    } catch (error) {
      const retryable = error instanceof RegistryError ? error.code === "registry_unreachable" : !(error instanceof ImageCorruptError) && signal?.aborted !== true && !(error instanceof Error && error.name === "AbortError");
      if (!retryable || attempt >= ATTEMPTS) throw error;
      await sleep(200 * attempt, undefined, signal === undefined ? {} : { signal });
    }
  }
  const actual = await hashFile(partial);
  if (actual !== hex) {
    await fsp.rm(partial, { force: true });
    throw new ImageCorruptError(`The image's ${blob.what} (${blob.digest}) does not match its digest: the registry sent bytes with sha256:${actual}. Nothing was stored.`, {
      details: { expected: blob.digest, actual: `sha256:${actual}` },
    });
  }
  await fsp.rename(partial, done);
  return done;
}

/** One request: appends to the partial file from its current size, or starts it over when the registry ignores the Range. */
async function fetchInto(client: RegistryClient, blob: BlobDescriptor, partial: string, onProgress: ProgressListener, signal?: AbortSignal): Promise<void> {
  let offset = 0;
  try {
    offset = (await fsp.stat(partial)).size;
  } catch {
    offset = 0;
  }
  if (offset > blob.size) {
    await fsp.rm(partial, { force: true });
    offset = 0;
  }
  if (offset === blob.size && offset > 0) return; // complete already: verified by the caller
  let response = await client.blob(blob.digest, offset, signal);
  if (response.status === 416) {
    await response.body?.cancel();
    offset = 0;
    response = await client.blob(blob.digest, 0, signal);
  }
  if (response.status === 206 && !(response.headers.get("content-range") ?? "").startsWith(`bytes ${offset}-`)) {
    await response.body?.cancel(); // not the part asked for: start over
    response = await client.blob(blob.digest, 0, signal);
  }
  if (response.status !== 206) offset = 0; // a full answer: start over
  const handle = await fsp.open(partial, offset === 0 ? "w" : "a", 0o600);
  let received = offset;
  onProgress(blob.digest, received);
  try {
    if (response.body === null) throw new RegistryError("registry_error", `The registry sent no body for the ${blob.what} (${blob.digest}).`);
    for await (const chunk of response.body) {
      received += chunk.length;
      if (received > blob.size) {
        throw new ImageCorruptError(`The image's ${blob.what} (${blob.digest}) is longer than the ${blob.size} bytes its manifest says. Nothing was stored.`);
      }
      await handle.write(chunk);
      onProgress(blob.digest, received);
    }
  } catch (error) {
    if (error instanceof ImageCorruptError) {
      await handle.close();
      await fsp.rm(partial, { force: true });
      throw error;
    }
    if (error instanceof RegistryError || signal?.aborted === true) throw error;
    throw new RegistryError("registry_unreachable", `The download of the ${blob.what} (${blob.digest}) broke off at byte ${received}: ${(error as Error).message}`);
  } finally {
    await handle.close().catch(() => {});
  }
  if (received < blob.size) throw new RegistryError("registry_unreachable", `The download of the ${blob.what} (${blob.digest}) ended at byte ${received} of ${blob.size}.`);
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Runs `tasks` at most `width` at a time; the first failure aborts the rest (through `controller`) and is thrown. */
export async function inParallel<T>(items: readonly T[], width: number, controller: AbortController, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await task(item);
      } catch (error) {
        if (failure === undefined) {
          failure = { error };
          controller.abort();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  if (failure !== undefined) throw failure.error;
}
