import { describe, expect, it } from "vitest";
import type { Language } from "../sandbox/images/languages.js";
import { compareVersions, selectLanguage } from "./select-language.js";

function language(id: string, image: string, version: string, aliases: string[] = []): Language {
  return { id, name: id === "python" ? "Python" : id, aliases, extensions: [".x"], sourceFile: "main.x", version: { fixed: version, detected: version }, compile: null, run: ["x"], image };
}

const languages = [language("python", "host", "3.11.2", ["py"]), language("python", "py312", "3.12.1", ["py"]), language("python", "python", "3.11.2", ["py"]), language("c", "host", "12.2.0")];

describe("selectLanguage", () => {
  it("picks the newest version, and a stored image over the host on a tie", () => {
    expect(selectLanguage(languages, { language: "py" }).image).toBe("py312");
    expect(selectLanguage(languages, { language: "python", version: "3.11" }).image).toBe("python");
    expect(selectLanguage(languages, { language: "python", image: "host" }).image).toBe("host");
  });

  it("matches version prefixes on component boundaries", () => {
    expect(selectLanguage(languages, { language: "python", version: "3" }).version.detected).toBe("3.12.1");
    expect(() => selectLanguage(languages, { language: "python", version: "3.1" })).toThrow(
      "Python 3.1 is not installed; this server has versions 3.11.2 (host), 3.12.1 (py312), 3.11.2 (python).",
    );
  });

  it("says which images provide a language", () => {
    expect(() => selectLanguage(languages, { language: "c", image: "python" })).toThrow('Image "python" does not provide c; host does.');
    expect(() => selectLanguage(languages, { language: "cobol" })).toThrow(expect.objectContaining({ code: "unknown_language", message: expect.stringContaining("Known languages: python, c") }));
  });
});

describe("compareVersions", () => {
  it("compares numerically, component by component", () => {
    expect(compareVersions("3.10.0", "3.9.9")).toBe(1);
    expect(compareVersions("17.0.2", "17.0.2")).toBe(0);
    expect(compareVersions("1.2", "1.2.1")).toBe(-1);
  });
});
