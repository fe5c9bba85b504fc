import { describe, expect, it } from "vitest";
import { expandCommand, findLanguage, guessLanguage } from "./languages.js";
import { loadImageRecipe } from "./recipe.js";

const { languages } = loadImageRecipe("host");

describe("the host image's language table", () => {
  it("has the six languages of the foundation", () => {
    expect(languages.map((language) => language.id)).toEqual(["python", "javascript", "c", "cpp", "java", "bash"]);
  });
});

describe("findLanguage", () => {
  it("finds by id and alias, ignoring case", () => {
    expect(findLanguage(languages, "python").id).toBe("python");
    expect(findLanguage(languages, "PY").id).toBe("python");
    expect(findLanguage(languages, "js").id).toBe("javascript");
    expect(findLanguage(languages, "c++").id).toBe("cpp");
  });

  it("names the known languages when it fails", () => {
    expect(() => findLanguage(languages, "cobol")).toThrow(
      'Unknown language "cobol". Known languages: python, javascript, c, cpp, java, bash (see `warren languages`).',
    );
  });
});

describe("guessLanguage", () => {
  it.each([
    ["hello.py", "python"],
    ["dir/x.JS", "javascript"],
    ["main.c", "c"],
    ["a.cc", "cpp"],
    ["Main.java", "java"],
    ["run.sh", "bash"],
  ])("guesses %s as %s", (file, id) => {
    expect(guessLanguage(languages, file)?.id).toBe(id);
  });

  it("gives up on unknown or missing extensions", () => {
    expect(guessLanguage(languages, "README")).toBeUndefined();
    expect(guessLanguage(languages, "x.rs")).toBeUndefined();
  });
});

describe("expandCommand", () => {
  it("expands sources of the language only, entry first", () => {
    const c = findLanguage(languages, "c");
    expect(expandCommand(c.compile ?? [], c, { files: ["main.c", "util.h", "util.c"], memoryMb: 512 })).toEqual([
      "gcc", "-O2", "-std=c17", "-D_GNU_SOURCE", "-pipe", "-o", "main", "main.c", "util.c", "-lm",
    ]);
  });

  it("sizes the JVM from the stage's memory and runs the entry's class", () => {
    const java = findLanguage(languages, "java");
    const run = expandCommand(java.run, java, { files: ["Main.java"], memoryMb: 256 });
    expect(run[0]).toBe("java");
    expect(run).toContain("-Xmx128m");
    expect(run.slice(-3)).toEqual(["-cp", ".", "Main"]);
    expect(expandCommand(java.compile ?? [], java, { files: ["Main.java"], memoryMb: 512 })).toContain("-J-Xmx256m");
  });
});
