import fs from "node:fs";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { dockerSave, ociLayout, sha256, tarOf, zstdSync, type TarEntry } from "./archives.js";
import { freshStore, install, listTree } from "./store-fixture.js";

let fixture: ReturnType<typeof freshStore>;
afterEach(() => fixture?.cleanup());

const base: TarEntry[] = [
  { name: "./" },
  { name: "./usr/" },
  { name: "./usr/bin/" },
  { name: "./usr/bin/tool", content: "#!/bin/sh\necho tool\n", mode: 0o700 },
  { name: "./usr/bin/su", content: "pretend setuid", mode: 0o4755 },
  { name: "./bin", type: "symlink", linkname: "usr/bin" },
  { name: "./etc/" },
  { name: "./etc/motd", content: "hello\n", mode: 0o600 },
  { name: "./etc/motd.link", type: "link", linkname: "./etc/motd" },
  { name: "./dev/" },
  { name: "./dev/null", type: "character-device" },
  { name: "./tmp/", mode: 0o1777 },
];

describe("importing a rootfs tarball", () => {
  it.each([
    ["plain", (tar: Buffer) => tar],
    ["gzip", (tar: Buffer) => gzipSync(tar)],
    ["zstd", (tar: Buffer) => zstdSync(tar)],
  ])("stores a %s tarball with links, safe modes and no device nodes", async (_kind, wrap) => {
    fixture = freshStore();
    const result = await install(fixture.store, wrap(await tarOf(base)), { name: "base" });
    const root = fixture.store.require("base").rootfs;
    expect(result.content.format).toBe("rootfs");
    expect(result.record.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(fs.readFileSync(path.join(root, "usr/bin/tool"), "utf8")).toBe("#!/bin/sh\necho tool\n");
    expect(fs.readlinkSync(path.join(root, "bin"))).toBe("usr/bin");
    // A hardlink is the same inode; modes: readable by all, exec by all when by the owner, no setuid, no world-writable dirs.
    expect(fs.statSync(path.join(root, "etc/motd.link")).ino).toBe(fs.statSync(path.join(root, "etc/motd")).ino);
    expect(fs.statSync(path.join(root, "usr/bin/tool")).mode & 0o7777).toBe(0o755);
    expect(fs.statSync(path.join(root, "usr/bin/su")).mode & 0o7777).toBe(0o755);
    expect(fs.statSync(path.join(root, "etc/motd")).mode & 0o7777).toBe(0o644);
    expect(fs.statSync(path.join(root, "tmp")).mode & 0o7777).toBe(0o755);
    expect(fs.existsSync(path.join(root, "dev/null"))).toBe(false);
    expect(result.notes).toEqual({ setid: ["usr/bin/su"], skipped: ["dev/null (character-device)"] });
    expect(listTree(fixture.store.layout.tmpDir)).toEqual([]);
  });

  it("stores the same content once, under any number of names", async () => {
    fixture = freshStore();
    const tar = await tarOf(base);
    const first = await install(fixture.store, tar, { name: "one" });
    const second = await install(fixture.store, gzipSync(tar), { name: "two" });
    expect(first.reused).toBe(false);
    expect(second.reused).toBe(true);
    expect(second.record.digest).toBe(first.record.digest);
    expect(fs.readdirSync(fixture.store.layout.contentRoot)).toHaveLength(1);
    expect(fixture.store.list().map((image) => image.record.name)).toEqual(["one", "two"]);
  });
});

/** Three layers: a base, then whiteouts and an opaque directory, then a layer adding back. */
async function layers(): Promise<Buffer[]> {
  return [
    await tarOf([
      { name: "etc/" },
      { name: "etc/keep", content: "keep" },
      { name: "etc/gone", content: "gone" },
      { name: "opt/" },
      { name: "opt/app/" },
      { name: "opt/app/old", content: "old" },
      { name: "opt/app/sub/" },
      { name: "opt/app/sub/older", content: "older" },
      { name: "lib/" },
      { name: "lib/libx.so.1", content: "lib" },
    ]),
    await tarOf([
      { name: "etc/" },
      { name: "etc/.wh.gone", content: "" },
      { name: "opt/app/" },
      { name: "opt/app/new", content: "new" },
      { name: "opt/app/.wh..wh..opq", content: "" },
      { name: "lib/libx.so", type: "symlink", linkname: "libx.so.1" },
      { name: "lib/libx-copy.so.1", type: "link", linkname: "lib/libx.so.1" },
    ]),
    await tarOf([{ name: "etc/gone", content: "back" }]),
  ];
}

function expectLayersApplied(root: string): void {
  expect(fs.readFileSync(path.join(root, "etc/keep"), "utf8")).toBe("keep");
  expect(fs.readFileSync(path.join(root, "etc/gone"), "utf8")).toBe("back");
  expect(fs.readdirSync(path.join(root, "opt/app"))).toEqual(["new"]);
  expect(fs.readlinkSync(path.join(root, "lib/libx.so"))).toBe("libx.so.1");
  expect(fs.statSync(path.join(root, "lib/libx-copy.so.1")).ino).toBe(fs.statSync(path.join(root, "lib/libx.so.1")).ino);
}

describe("importing layered images", () => {
  it("applies a docker save archive's layers in order, with whiteouts and opaque dirs", async () => {
    fixture = freshStore();
    const result = await install(fixture.store, await dockerSave(await layers(), { env: ["PATH=/opt/bin:/usr/bin", "LANG=C.UTF-8"] }), { name: "docker" });
    expect(result.content.format).toBe("docker");
    expect(result.record.env).toEqual({ PATH: "/opt/bin:/usr/bin", LANG: "C.UTF-8" });
    expectLayersApplied(fixture.store.require("docker").rootfs);
  });

  it("applies an OCI layout's gzip layers, and gives the same layers the same digest as docker save", async () => {
    fixture = freshStore();
    const oci = await install(fixture.store, gzipSync(await ociLayout(await layers(), { gzipLayers: true })), { name: "oci" });
    expect(oci.content.format).toBe("oci");
    expectLayersApplied(fixture.store.require("oci").rootfs);
    const docker = await install(fixture.store, await dockerSave(await layers()), { name: "docker" });
    expect(docker.record.digest).toBe(oci.record.digest);
    expect(docker.reused).toBe(true);
  });

  it("applies an OCI layout's zstd layers (tar+zstd, one of them in several frames), inside a zstd archive, with the same digest as gzip layers", async () => {
    fixture = freshStore();
    const plain = await layers();
    const archive = await ociLayout(plain, { zstdLayers: true });
    const oci = await install(fixture.store, zstdSync(archive, "-19"), { name: "zstd" });
    expect(oci.content.format).toBe("oci");
    expectLayersApplied(fixture.store.require("zstd").rootfs);
    const gzip = await install(fixture.store, await ociLayout(plain, { gzipLayers: true }), { name: "gzip" });
    expect(gzip.record.digest).toBe(oci.record.digest);
    // a big layer (several MB: many blocks) written as two frames, as a parallel compressor would
    const big = await tarOf([{ name: "data/" }, { name: "data/a", content: Buffer.alloc(3 << 20, "warren ") }, { name: "data/b", content: Buffer.from(Array.from({ length: 2 << 20 }, (_, i) => (i * 7919) % 251)) }]);
    const twoFrames = (layer: Buffer) => Buffer.concat([zstdSync(layer.subarray(0, 1 << 20)), zstdSync(layer.subarray(1 << 20))]);
    const multi = await install(fixture.store, await ociLayout([big], { zstdLayers: twoFrames }), { name: "frames" });
    expect(multi.content.diffIds).toEqual([sha256(big)]);
    const root = fixture.store.require("frames").rootfs;
    expect(fs.readFileSync(path.join(root, "data/a")).equals(Buffer.alloc(3 << 20, "warren "))).toBe(true);
    expect(fs.statSync(path.join(root, "data/b")).size).toBe(2 << 20);
  });

  it("keeps what the same layer puts in a directory it makes opaque", async () => {
    fixture = freshStore();
    const lower = await tarOf([{ name: "d/" }, { name: "d/x/" }, { name: "d/x/old", content: "old" }, { name: "d/lower", content: "lower" }]);
    const upper = await tarOf([{ name: "d/x/" }, { name: "d/x/new", content: "new" }, { name: "d/.wh..wh..opq", content: "" }]);
    await install(fixture.store, await ociLayout([lower, upper]), { name: "opaque" });
    const root = fixture.store.require("opaque").rootfs;
    expect(listTree(path.join(root, "d"))).toEqual(["x", path.join("x", "new")]);
  });
});
