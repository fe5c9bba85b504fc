import { describe, expect, it } from "vitest";
import { encodeJobFiles } from "./job-files.js";

describe("encodeJobFiles", () => {
  it("lays out each file as path length, path, content length, content", () => {
    const stream = encodeJobFiles([
      { path: "main.c", content: "int main(){}" },
      { path: "lib/ü.h", content: Buffer.from([1, 2, 3]) },
    ]);
    const expected = Buffer.concat([
      Buffer.from([6, 0, 0, 0]), Buffer.from("main.c"), Buffer.from([12, 0, 0, 0]), Buffer.from("int main(){}"),
      Buffer.from([8, 0, 0, 0]), Buffer.from("lib/ü.h"), Buffer.from([3, 0, 0, 0]), Buffer.from([1, 2, 3]),
    ]);
    expect(stream).toEqual(expected);
    expect(encodeJobFiles([])).toEqual(Buffer.alloc(0));
  });

  it("refuses bad paths and clashing files", () => {
    expect(() => encodeJobFiles([{ path: "../x", content: "" }])).toThrow(expect.objectContaining({ code: "invalid_file_path" }));
    expect(() => encodeJobFiles([{ path: "/etc/x", content: "" }])).toThrow(expect.objectContaining({ code: "invalid_file_path" }));
    expect(() => encodeJobFiles([{ path: "a", content: "" }, { path: "a", content: "" }])).toThrow(expect.objectContaining({ code: "invalid_request" }));
    expect(() => encodeJobFiles([{ path: "a", content: "" }, { path: "a/b", content: "" }])).toThrow(expect.objectContaining({ code: "invalid_request" }));
    expect(() => encodeJobFiles([{ path: "a/b", content: "" }, { path: "a", content: "" }])).toThrow(expect.objectContaining({ code: "invalid_request" }));
    expect(encodeJobFiles([{ path: "a/b", content: "" }, { path: "a/c", content: "" }]).length).toBeGreaterThan(0);
  });
});
