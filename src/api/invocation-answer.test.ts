import { describe, expect, it } from "vitest";
import { logHeader, LOG_HEADER_BYTES, mediaTypeOf } from "./invocation-answer.js";

describe("mediaTypeOf", () => {
  it("keeps a well-formed media type and its parameters", () => {
    for (const type of ["application/json", "text/plain; charset=utf-8", 'multipart/form-data; boundary="a b"', "application/vnd.api+json"]) expect(mediaTypeOf(type)).toBe(type);
  });

  it("sends anything else from the sandbox as bytes: header injection, controls, no subtype, too long", () => {
    for (const type of ["text/html\r\nset-cookie: a=b", "text/html\nx: 1", "text/plain; charset=\"a\r\n\"", "json", "", "a/b\0", `text/${"x".repeat(300)}`]) expect(mediaTypeOf(type)).toBe("application/octet-stream");
  });
});

describe("logHeader", () => {
  it("keeps each stream's last bytes and says when it cut", () => {
    const decoded = (header: string) => JSON.parse(Buffer.from(header, "base64").toString("utf8")) as { stdout: string; stderr: string; truncated: boolean };
    expect(decoded(logHeader({ stdout: "", stderr: "short\n", truncated: false }))).toEqual({ stdout: "", stderr: "short\n", truncated: false });
    const long = decoded(logHeader({ stdout: "", stderr: `${"a".repeat(5000)}END`, truncated: false }));
    expect(long.stderr.endsWith("END")).toBe(true);
    expect(Buffer.byteLength(long.stderr)).toBeLessThanOrEqual(LOG_HEADER_BYTES);
    expect(long.truncated).toBe(true);
  });
});
