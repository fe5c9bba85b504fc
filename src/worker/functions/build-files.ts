import type { FunctionFile } from "../../run/functions.js";

/** The regular files of a ustar archive (`tar --format=ustar -cf -`), paths without their leading `./`; other entries are skipped. */
export function untar(archive: Buffer): FunctionFile[] {
  const files: FunctionFile[] = [];
  for (let at = 0; at + 512 <= archive.length; ) {
    const header = archive.subarray(at, at + 512);
    if (header.every((byte) => byte === 0)) break; // the end-of-archive blocks
    const text = (from: number, length: number) => {
      const field = header.subarray(from, from + length);
      const end = field.indexOf(0);
      return field.subarray(0, end < 0 ? length : end).toString("utf8");
    };
    const size = parseInt(text(124, 12).trim() || "0", 8);
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`A tar header at ${at} has a bad size.`);
    const prefix = text(345, 155);
    const name = (prefix === "" ? "" : `${prefix}/`) + text(0, 100);
    const type = String.fromCharCode(header[156] ?? 0);
    const start = at + 512;
    if (start + size > archive.length) throw new RangeError(`The tar entry ${JSON.stringify(name)} is cut short.`);
    if (type === "0" || type === "\0") {
      const clean = name.replace(/^(\.\/)+/, "");
      if (clean !== "") files.push({ path: clean, content: Buffer.from(archive.subarray(start, start + size)) });
    }
    at = start + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** What a compile stage made: the files of AFTER that are not in SOURCES with the same content. */
export function builtFiles(after: readonly FunctionFile[], sources: readonly FunctionFile[]): FunctionFile[] {
  const source = new Map(sources.map((file) => [file.path, file.content]));
  return after.filter((file) => {
    const before = source.get(file.path);
    return before === undefined || !before.equals(file.content);
  });
}
