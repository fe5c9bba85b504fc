import fs from "node:fs";
import path from "node:path";
import { InvalidRequestError } from "../errors.js";
import { REQUEST_BOUNDS } from "../run/request.js";

/**
 * A function's files as a deploy sends them: every regular file below DIR
 * (dot-directories such as .git skipped), utf8 when it is valid UTF-8, else
 * base64; at most the request's file count. Symbolic links are refused: a
 * deploy sends what DIR holds, nothing it points at.
 */
export function readFunctionDir(dir: string): { path: string; content: string; encoding: "utf8" | "base64" }[] {
  if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new InvalidRequestError(`warren fn deploy: ${dir} is not a directory.`);
  const files: { path: string; content: string; encoding: "utf8" | "base64" }[] = [];
  const walk = (relative: string) => {
    for (const entry of fs.readdirSync(path.join(dir, relative), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        if (!entry.name.startsWith(".")) walk(child);
      } else if (entry.isFile()) {
        if (files.length >= REQUEST_BOUNDS.files) throw new InvalidRequestError(`warren fn deploy: ${dir} has more than ${REQUEST_BOUNDS.files} files, the most a deploy takes.`);
        const bytes = fs.readFileSync(path.join(dir, child));
        const text = bytes.toString("utf8");
        const utf8 = Buffer.from(text, "utf8").equals(bytes);
        files.push({ path: child, content: utf8 ? text : bytes.toString("base64"), encoding: utf8 ? "utf8" : "base64" });
      } else if (entry.isSymbolicLink()) {
        throw new InvalidRequestError(`warren fn deploy: ${path.join(dir, child)} is a symbolic link; copy the file it points at into ${dir}.`);
      }
    }
  };
  walk("");
  if (files.length === 0) throw new InvalidRequestError(`warren fn deploy: ${dir} has no files.`);
  return files;
}
