import fs from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { processStartTime } from "../../src/sandbox/images/store/lease.js";
import { tarOf } from "./archives.js";
import { freshStore, install, listTree } from "./store-fixture.js";

let fixture: ReturnType<typeof freshStore>;
afterEach(() => fixture?.cleanup());

const one = () => tarOf([{ name: "one", content: "1" }]);
const two = () => tarOf([{ name: "two", content: "2" }]);

describe("the image store", () => {
  it("removes a shared content only with its last name", async () => {
    fixture = freshStore();
    await install(fixture.store, await one(), { name: "a" });
    await install(fixture.store, await one(), { name: "b" });
    await expect(fixture.store.remove("a")).resolves.toEqual({ contentRemoved: false });
    expect(fs.readdirSync(fixture.store.layout.contentRoot)).toHaveLength(1);
    await expect(fixture.store.remove("b")).resolves.toEqual({ contentRemoved: true });
    expect(fs.readdirSync(fixture.store.layout.contentRoot)).toEqual([]);
    expect(listTree(fixture.store.layout.tmpDir)).toEqual([]);
  });

  it("moves a name to new content and collects the old content", async () => {
    fixture = freshStore();
    const first = await install(fixture.store, await one(), { name: "a" });
    const second = await install(fixture.store, await two(), { name: "a" });
    expect(second.record.digest).not.toBe(first.record.digest);
    expect(fs.readdirSync(fixture.store.layout.contentRoot)).toEqual([second.record.digest.slice("sha256:".length)]);
    expect(fs.readFileSync(`${fixture.store.require("a").rootfs}/two`, "utf8")).toBe("2");
  });

  it("refuses the host image's name and names that are not names", async () => {
    fixture = freshStore();
    await expect(install(fixture.store, await one(), { name: "host" })).rejects.toMatchObject({ code: "invalid_request", message: expect.stringContaining("built-in host image") });
    await expect(install(fixture.store, await one(), { name: "../x" })).rejects.toMatchObject({ code: "invalid_request" });
    await expect(fixture.store.remove("host")).rejects.toMatchObject({ code: "invalid_request" });
    await expect(fixture.store.remove("nope")).rejects.toMatchObject({ code: "image_not_found", message: expect.stringContaining("Installed images: host") });
  });

  it("sweeps what a dead import left in tmp/, and keeps a live one's", async () => {
    fixture = freshStore();
    const tmp = fixture.store.layout.tmpDir;
    fs.mkdirSync(`${tmp}/import-999999999-1-dead`, { recursive: true });
    const live = `import-${process.pid}-${processStartTime(process.pid)}-live`;
    fs.mkdirSync(`${tmp}/${live}`, { recursive: true });
    fs.mkdirSync(`${tmp}/import-${process.pid}-1-reused-pid`, { recursive: true });
    fixture.store.sweep();
    expect(fs.readdirSync(tmp)).toEqual([live]);
  });
});
