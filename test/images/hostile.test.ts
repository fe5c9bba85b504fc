import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dockerSave, ociLayout, tarOf, zstdSync } from "./archives.js";
import { freshStore, install, listTree } from "./store-fixture.js";

let fixture: ReturnType<typeof freshStore>;
/** A directory outside the store that hostile archives aim at: it must stay empty. */
let outside: string;

beforeEach(() => {
  fixture = freshStore();
  outside = fs.mkdtempSync(path.join(os.tmpdir(), "warren-outside-"));
});
afterEach(() => {
  fixture.cleanup();
  fs.rmSync(outside, { recursive: true, force: true });
});

/** Installs `archive`, expects the error, and checks that nothing was left behind or written outside. */
async function expectRefused(archive: Buffer, code: string, message: RegExp, limits?: { maxBytes: number; maxFiles: number }): Promise<void> {
  await expect(install(fixture.store, archive, limits === undefined ? {} : { limits })).rejects.toMatchObject({ code, message: expect.stringMatching(message) });
  expect(fixture.store.list()).toEqual([]);
  expect(listTree(fixture.store.layout.tmpDir)).toEqual([]);
  expect(listTree(fixture.store.layout.contentRoot)).toEqual([]);
  expect(listTree(outside)).toEqual([]);
}

describe("hostile archives are refused, and leave nothing behind", () => {
  it("refuses path traversal with ..", async () => {
    const relative = path.relative(fixture.store.layout.tmpDir, outside);
    await expectRefused(await tarOf([{ name: "ok", content: "x" }, { name: `../../../../${relative}/evil`, content: "x" }]), "image_rejected", /climbs out of the image with `\.\.`/);
    await expectRefused(await tarOf([{ name: "a/../../evil", content: "x" }]), "image_rejected", /climbs out/);
  });

  it("refuses absolute paths", async () => {
    await expectRefused(await tarOf([{ name: `${outside}/evil`, content: "x" }]), "image_rejected", /is an absolute path/);
  });

  it("refuses to write through a symlink (absolute or relative) that is already in the tree", async () => {
    await expectRefused(
      await tarOf([{ name: "escape", type: "symlink", linkname: outside }, { name: "escape/evil", content: "x" }]),
      "image_rejected",
      /"escape\/evil" lies below the symlink "escape"/,
    );
    await expectRefused(
      await tarOf([{ name: "d/" }, { name: "d/up", type: "symlink", linkname: "../../../../../../../.." }, { name: "d/up/tmp/evil", content: "x" }]),
      "image_rejected",
      /lies below the symlink "d\/up"/,
    );
  });

  it("refuses a symlink escape spread over two layers", async () => {
    const lower = await tarOf([{ name: "escape", type: "symlink", linkname: outside }]);
    const upper = await tarOf([{ name: "escape/evil", content: "x" }]);
    await expectRefused(await dockerSave([lower, upper]), "image_rejected", /lies below the symlink/);
  });

  it("refuses hardlinks that point out of the image or at a symlink", async () => {
    await expectRefused(await tarOf([{ name: "passwd", type: "link", linkname: "../../../../../../etc/passwd" }]), "image_rejected", /climbs out/);
    await expectRefused(await tarOf([{ name: "passwd", type: "link", linkname: "/etc/passwd" }]), "image_rejected", /absolute path/);
    await expectRefused(
      await tarOf([{ name: "link", type: "symlink", linkname: "/etc/passwd" }, { name: "hard", type: "link", linkname: "link" }]),
      "image_rejected",
      /points at "link", which is not a regular file of the image/,
    );
    await expectRefused(await tarOf([{ name: "hard", type: "link", linkname: "missing" }]), "image_rejected", /which is not in the image/);
  });

  it("stops at the file-count cap", async () => {
    const many = Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, content: "" }));
    await expectRefused(await tarOf(many), "image_too_large", /more than 20 files.*--max-files/, { maxBytes: 1 << 20, maxFiles: 20 });
  });

  it("stops at the size cap, in a layer and in the spooled archive", async () => {
    const big = await tarOf([{ name: "big", content: Buffer.alloc(64 * 1024) }]);
    await expectRefused(big, "image_too_large", /larger than 32\.0 KiB.*--max-size-mb/, { maxBytes: 32 * 1024, maxFiles: 100 });
    await expectRefused(await dockerSave([big]), "image_too_large", /larger than 32\.0 KiB/, { maxBytes: 32 * 1024, maxFiles: 100 });
  });

  it("refuses truncated archives, plain and gzip", async () => {
    const tar = await tarOf([{ name: "a", content: Buffer.alloc(10_000, 1) }, { name: "b", content: "b" }]);
    await expectRefused(tar.subarray(0, 5_000), "image_corrupt", /cut short/);
    const gz = gzipSync(tar);
    await expectRefused(gz.subarray(0, gz.length - 10), "image_corrupt", /cut short/);
    const docker = await dockerSave([tar]);
    await expectRefused(docker.subarray(0, docker.length - 3000), "image_corrupt", /cut short|does not contain/);
  });

  it("refuses blobs that do not match their digests", async () => {
    const layer = await tarOf([{ name: "a", content: "a" }]);
    await expectRefused(await ociLayout([layer], { corruptBlob: "layer" }), "image_corrupt", /layer 1 does not match its digest/);
    await expectRefused(await ociLayout([layer], { corruptBlob: "manifest" }), "image_corrupt", /image manifest does not match its digest/);
    await expectRefused(await dockerSave([layer], { wrongDiffId: 0 }), "image_corrupt", /Layer 1 .* does not match the image config/);
  });

  it("refuses input that is not a tar archive", async () => {
    await expectRefused(Buffer.alloc(0), "image_corrupt", /holds no entries/);
    await expectRefused(Buffer.from("x"), "image_corrupt", /cut short or is not a tar archive/);
    await expectRefused(Buffer.alloc(2048, 0x41), "image_corrupt", /not a tar archive/);
  });

  it("refuses compression it cannot read, saying how to decompress", async () => {
    await expectRefused(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 0, 0]), "image_corrupt", /xz-compressed.*xz -d/);
    await expectRefused(Buffer.from("BZh91AY&SY"), "image_corrupt", /bzip2-compressed.*bzip2 -d/);
  });

  it("refuses truncated or corrupt zstd, as the archive or as a layer", async () => {
    await expectRefused(Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]), "image_corrupt", /^The archive is cut short: its zstd data ends inside frame 1\.$/);
    const tar = await tarOf([{ name: "a", content: Buffer.alloc(100_000, 1) }, { name: "b", content: "b" }]);
    const zst = zstdSync(tar);
    await expectRefused(zst.subarray(0, zst.length - 10), "image_corrupt", /^The archive is cut short: its zstd data ends inside frame 1/);
    await expectRefused(Buffer.concat([zst, Buffer.from("not a frame")]), "image_corrupt", /^The archive is not valid zstd data: the bytes after frame 1 begin no zstd frame/);
    const cutLayer = (layer: Buffer) => zstdSync(layer).subarray(0, 40);
    await expectRefused(await ociLayout([tar], { zstdLayers: cutLayer }), "image_corrupt", /^Layer 1 \(sha256:[0-9a-f]{64}\) is cut short: its zstd data/);
  });
});
