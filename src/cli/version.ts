import fs from "node:fs";

/** Warren's version, from package.json (two levels above this file in src/ and in dist/). */
export function warrenVersion(): string {
  try {
    const text = fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    return (JSON.parse(text) as { version?: string }).version ?? "unknown";
  } catch {
    return "unknown";
  }
}
