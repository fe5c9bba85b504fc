import { describe, expect, it } from "vitest";
import { entryPath, parentsOf } from "./entry-path.js";

describe("entryPath", () => {
  it.each([
    ["./usr/bin/", "usr/bin"],
    ["usr//bin/./x", "usr/bin/x"],
    ["./", ""],
    [".", ""],
    ["..foo/bar..", "..foo/bar.."],
  ])("normalizes %j to %j", (name, rel) => {
    expect(entryPath(name)).toBe(rel);
  });

  it.each([
    ["/etc/passwd", /absolute path/],
    ["../x", /climbs out/],
    ["a/../../x", /climbs out/],
    ["a/..", /climbs out/],
    ["a\0b", /NUL byte/],
  ])("refuses %j", (name, message) => {
    expect(() => entryPath(name)).toThrow(expect.objectContaining({ code: "image_rejected", message: expect.stringMatching(message) }));
  });
});

describe("parentsOf", () => {
  it("lists the parents outermost first", () => {
    expect(parentsOf("a/b/c")).toEqual(["a", "a/b"]);
    expect(parentsOf("a")).toEqual([]);
  });
});
