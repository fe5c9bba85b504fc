/* The environment is parsed once, by the command (src/config/load-settings.ts,
 * called from each command with the process.env that src/cli/main.ts hands
 * it), and the settings are handed down typed: no other module under src/
 * reads process.env. src/config/ may (the environment a launcher inherits). */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** Where process.env may be read: the config module, and the command line's entry point. */
const ALLOWED = ["src/config/", "src/cli/main.ts"];
const TESTS = /\.(test|case)\.ts$/;

/** `process.env`, `process["env"]` and `{ env } = process`, outside comments. */
const READ = /\bprocess\s*(?:\.\s*env\b|\[\s*["'`]env["'`]\s*\])|\{[^}]*\benv\b[^}]*\}\s*=\s*process\b/;

/** The lines of `text` (a TypeScript file) that read process.env, as `line: text`. */
function envReads(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, (comment) => comment.replace(/[^\n]/g, " ")).replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
  return code
    .split("\n")
    .flatMap((line, index) => (READ.test(line) ? [`${index + 1}: ${text.split("\n")[index]!.trim()}`] : []));
}

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return entry.name === "native" ? [] : sources(file);
    return entry.name.endsWith(".ts") && !TESTS.test(entry.name) ? [file] : [];
  });
}

describe("the environment is read in one place", () => {
  it("no module under src/ but src/config/ and src/cli/main.ts reads process.env", () => {
    const stray = sources("src")
      .filter((file) => !ALLOWED.some((allowed) => (allowed.endsWith("/") ? file.startsWith(allowed) : file === allowed)))
      .flatMap((file) => envReads(fs.readFileSync(path.join(ROOT, file), "utf8")).map((line) => `${file}:${line}`));
    expect(stray, "declare the variable in src/config/variables.ts and hand its setting down from the command instead").toEqual([]);
  });

  it("the check finds every spelling of a read, and not a mention in a comment (the rule does fire)", () => {
    const text = [
      "const a = process.env.WARREN_X;",
      'const b = process["env"];',
      "const { env } = process;",
      "const c = process . env;",
      "// process.env in a line comment",
      "/* process.env in a block comment */ const d = 1;",
      "const e = env.WARREN_Y; // a parameter named env is not process.env",
    ].join("\n");
    expect(envReads(text)).toEqual(["1: const a = process.env.WARREN_X;", '2: const b = process["env"];', "3: const { env } = process;", "4: const c = process . env;"]);
  });
});
