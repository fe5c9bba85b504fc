import { describe, expect, it } from "vitest";
import { decode64, encode64 } from "./base64.js";
import { decimal, judge0Strip, parseFields, splitArguments } from "./submission.js";

describe("Judge0's base64 (Ruby's encode64 / decode64)", () => {
  it("wraps every 60 characters and ends each line, the last included, with a newline; nothing for nothing", () => {
    expect(encode64("")).toBe("");
    expect(encode64("hi")).toBe("aGk=\n");
    const exact = Buffer.alloc(45, 1); // 45 bytes: exactly 60 characters
    expect(encode64(exact)).toBe(`${exact.toString("base64")}\n`);
    const longer = Buffer.alloc(46, 1);
    const text = longer.toString("base64");
    expect(encode64(longer)).toBe(`${text.slice(0, 60)}\n${text.slice(60)}\n`);
  });

  it("decodes what it encoded, skipping line breaks and characters outside the alphabet", () => {
    const bytes = Buffer.from([0, 255, 128, 10, 13, 65]);
    expect(decode64(encode64(bytes))).toEqual(bytes);
    expect(decode64("aG\nk=!").toString()).toBe("hi");
    expect(decode64("").length).toBe(0);
  });
});

describe("Judge0's text forms", () => {
  it("shows decimals as BigDecimal strings", () => {
    expect(decimal(5)).toBe("5.0");
    expect(decimal(0.5)).toBe("0.5");
    expect(decimal(0.0041)).toBe("0.004");
    expect(decimal(12.3456)).toBe("12.346");
  });

  it("compares outputs as isolate_job's strip: trailing ASCII blanks per line and at the end only", () => {
    expect(judge0Strip("a \t\nb\r\n\n\n")).toBe("a\nb");
    expect(judge0Strip(" a")).toBe(" a");
    expect(judge0Strip("a\u00a0")).toBe("a\u00a0");
  });

  it("splits command_line_arguments as the shell would, without $&;<>|` (which Judge0 drops)", () => {
    expect(splitArguments(`a "b c" 'd e' f\\ g`)).toEqual(["a", "b c", "d e", "f g"]);
    expect(splitArguments(`"say \\"hi\\""`)).toEqual(['say "hi"']);
    expect(splitArguments("x;rm -rf $HOME|`id`")).toEqual(["xrm", "-rf", "HOMEid"]);
    expect(splitArguments(`'' ""`)).toEqual(["", ""]);
    expect(splitArguments("   ")).toEqual([]);
  });

  it("reads ?fields: the defaults, all for *, the named ones in Judge0's order, or the unknown names", () => {
    expect(parseFields(undefined)).toEqual({ fields: ["token", "time", "memory", "stdout", "stderr", "compile_output", "message", "status"] });
    expect("fields" in parseFields("*") && parseFields("*")).toMatchObject({ fields: expect.arrayContaining(["source_code", "language"]) });
    expect(parseFields("status, stdout")).toEqual({ fields: ["stdout", "status"] });
    expect(parseFields("stdout,nope,zip")).toEqual({ invalid: ["nope", "zip"] });
  });
});
