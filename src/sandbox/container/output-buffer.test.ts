import { describe, expect, it } from "vitest";
import { ByteAllowance, OutputBuffer } from "./output-buffer.js";

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
    expect(buffer.bytesDropped).toBe(3);
  });

  it("shares an allowance with another buffer: first come first kept, the rest counted", () => {
    const shared = new ByteAllowance(6);
    const stdout = new OutputBuffer(100, shared);
    const stderr = new OutputBuffer(4, shared);
    stdout.push(Buffer.from("1234"));
    stderr.push(Buffer.from("abc"));
    stdout.push(Buffer.from("56"));
    stderr.push(Buffer.from("d"));
    expect([stdout.toBuffer().toString(), stderr.toBuffer().toString()]).toEqual(["1234", "ab"]);
    expect([stdout.bytesDropped, stderr.bytesDropped, shared.left]).toEqual([2, 2, 0]);
    expect(stdout.overflowed && stderr.overflowed).toBe(true);
  });

  it("keeps nothing with a zero allowance, and counts everything", () => {
    const buffer = new OutputBuffer(10, new ByteAllowance(0));
    buffer.push(Buffer.from("hello"));
    expect(buffer.toBuffer().length).toBe(0);
    expect(buffer.bytesDropped).toBe(5);
  });
});
