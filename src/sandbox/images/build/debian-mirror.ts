import fs from "node:fs";
import path from "node:path";

const DEFAULT_MIRROR = "http://deb.debian.org/debian";

/**
 * The Debian mirror this machine's apt uses for `suite` (deb822
 * /etc/apt/sources.list.d/*.sources or one-line sources.list), so an image
 * build fetches from the same place as the host. `explicit` (`--mirror`, or
 * WARREN_DEBIAN_MIRROR) wins; deb.debian.org when nothing matches.
 */
export function debianMirror(suite: string, explicit: string | undefined, aptDir = "/etc/apt"): string {
  if (explicit !== undefined && explicit !== "") return explicit;
  for (const text of sourceFiles(aptDir)) {
    const found = fromDeb822(text, suite) ?? fromOneLine(text, suite);
    if (found !== undefined) return found;
  }
  return DEFAULT_MIRROR;
}

function sourceFiles(aptDir: string): string[] {
  const files = [path.join(aptDir, "sources.list")];
  try {
    for (const name of fs.readdirSync(path.join(aptDir, "sources.list.d")).sort()) {
      if (name.endsWith(".sources") || name.endsWith(".list")) files.push(path.join(aptDir, "sources.list.d", name));
    }
  } catch {
    // no sources.list.d
  }
  return files.flatMap((file) => {
    try {
      return [fs.readFileSync(file, "utf8")];
    } catch {
      return [];
    }
  });
}

/** A deb822 stanza with `Types: deb` and `suite` among its `Suites:`: its first URI. */
export function fromDeb822(text: string, suite: string): string | undefined {
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, "mi").exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
    if (field("Types").includes("deb") && field("Suites").includes(suite)) return field("URIs")[0];
  }
  return undefined;
}

/** A one-line `deb [opts] URI SUITE COMPONENTS…` entry for `suite`: its URI. */
export function fromOneLine(text: string, suite: string): string | undefined {
  for (const line of text.split("\n")) {
    const match = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (match?.[2] === suite) return match[1];
  }
  return undefined;
}
