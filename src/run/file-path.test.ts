import { describe, expect, it } from "vitest";
import { checkFilePath, isValidFilePath } from "./file-path.js";

describe("checkFilePath", () => {
  it("accepts plain relative paths and returns their segments", () => {
    expect(checkFilePath("main.py")).toEqual(["main.py"]);
    expect(checkFilePath("src/lib/util.c")).toEqual(["src", "lib", "util.c"]);
    expect(checkFilePath("..hidden")).toEqual(["..hidden"]);
  });

  it.each([
    ["", "invalid_file_path"],
    ["/etc/passwd", "invalid_file_path"],
    ["../x", "invalid_file_path"],
    ["a/../../x", "invalid_file_path"],
    ["a/..", "invalid_file_path"],
    ["./a", "invalid_file_path"],
    ["a//b", "invalid_file_path"],
    ["a/", "invalid_file_path"],
    ["a\0b", "invalid_file_path"],
    ["a\\b", "invalid_file_path"],
  ])("refuses %j", (path, code) => {
    expect(() => checkFilePath(path)).toThrow(expect.objectContaining({ code }));
    expect(isValidFilePath(path)).toBe(false);
  });
});

describe("checkFilePath bounds", () => {
  it("refuses a segment over 255 bytes and a path over 32 levels, accepts the limits", () => {
    expect(() => checkFilePath("é".repeat(128))).toThrow(/longer than 255 bytes/); // 256 bytes, 128 characters
    expect(checkFilePath("x".repeat(255))).toHaveLength(1);
    expect(() => checkFilePath(Array(33).fill("d").join("/"))).toThrow(/more than 32 levels/);
    expect(checkFilePath(Array(32).fill("d").join("/"))).toHaveLength(32);
  });
});
