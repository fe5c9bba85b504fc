import { describe, expect, it } from "vitest";
import { check } from "./checkers.js";

describe("exact", () => {
  it("compares bytes as they are", () => {
    expect(check({ kind: "exact" }, "3\n", "3\n")).toBe(true);
    expect(check({ kind: "exact" }, "3\n", "3")).toBe(false);
    expect(check({ kind: "exact" }, "3\n", "3 \n")).toBe(false);
  });
});

describe("lines", () => {
  it("ignores trailing spaces, CRs and trailing empty lines, not leading or inner differences", () => {
    expect(check({ kind: "lines" }, "a b\nc\n", "a b  \r\nc\n\n\n")).toBe(true);
    expect(check({ kind: "lines" }, "a b\nc", "a b\nc\n")).toBe(true);
    expect(check({ kind: "lines" }, "a b\nc\n", " a b\nc\n")).toBe(false);
    expect(check({ kind: "lines" }, "a b\nc\n", "a  b\nc\n")).toBe(false);
    expect(check({ kind: "lines" }, "a\n\nb\n", "a\nb\n")).toBe(false);
  });
});

describe("tokens", () => {
  it("compares whitespace-separated tokens", () => {
    expect(check({ kind: "tokens" }, "1 2\n3\n", "1\n2 3")).toBe(true);
    expect(check({ kind: "tokens" }, "1 2 3", "1 2")).toBe(false);
    expect(check({ kind: "tokens" }, "", "  \n")).toBe(true);
  });
});

describe("float", () => {
  const checker = { kind: "float", epsilon: 1e-6 } as const;
  it("accepts numbers within absolute or relative epsilon", () => {
    expect(check(checker, "0.3333333", "0.33333334")).toBe(true);
    expect(check(checker, "1000000000", "1000000001")).toBe(true);
    expect(check(checker, "1e-3", "0.001")).toBe(true);
  });
  it("refuses numbers outside epsilon and differing words", () => {
    expect(check(checker, "0.5", "0.51")).toBe(false);
    expect(check(checker, "YES 1.0", "NO 1.0")).toBe(false);
    expect(check(checker, "1.0", "1.0 2.0")).toBe(false);
    expect(check(checker, "nan", "1")).toBe(false);
  });
});
