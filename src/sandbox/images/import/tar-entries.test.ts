import crypto from "node:crypto";
import { Readable } from "node:stream";
import tar from "tar-stream";
import { describe, expect, it } from "vitest";
import { forEachEntry } from "./tar-entries.js";

async function archive(): Promise<Buffer> {
  const pack = tar.pack();
  for (let i = 0; i < 4; i += 1) pack.entry({ name: `f${i}` }, crypto.randomBytes(1 << 20));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("forEachEntry", () => {
  // A handler's error (a full disk) while the archive still streams in: the
  // archive's feed must see the extractor destroyed, also when its 'close' was
  // emitted before the feed waited for a drain (it waited forever, and a CLI
  // import ended with Node's exit 13, an unsettled await).
  it("rejects with the handler's error wherever in the archive it throws, and never hangs", async () => {
    const bytes = await archive();
    const pieces: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 65_536) pieces.push(bytes.subarray(at, at + 65_536));
    for (let after = 0; after < 40; after += 1) {
      let chunks = 0;
      const walked = forEachEntry(Readable.from(pieces), "the archive", async (_header, body) => {
        for await (const _chunk of body) if (++chunks > after) throw new Error(`disk full after ${after}`);
      });
      const outcome = await Promise.race([
        walked.then(() => "resolved", (error: Error) => error.message),
        new Promise((resolve) => setTimeout(resolve, 5_000, "still pending after 5 s")),
      ]);
      expect(outcome).toBe(`disk full after ${after}`);
    }
  });
});
