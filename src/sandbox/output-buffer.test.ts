import { describe, expect, it } from "vitest";
import { OutputBuffer } from "./output-buffer.js";

describe("OutputBuffer", () => {
  it("keeps up to the cap and says when it dropped bytes", () => {
    const buffer = new OutputBuffer(5);
    buffer.push(Buffer.from("abc"));
    expect(buffer.overflowed).toBe(false);
    buffer.push(Buffer.from("defg"));
    buffer.push(Buffer.from("h"));
    expect(buffer.toBuffer().toString()).toBe("abcde");
    expect(buffer.overflowed).toBe(true);
    expect(buffer.bytesSeen).toBe(8);
  });
});
