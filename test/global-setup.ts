/* Before any test file: dist/ must be the compiled form of src/, because the
 * tests that start `warren` as a command run bin/warren.js (test/helpers/cli.ts).
 * When a source is newer than its output (an edit since the last build, a
 * checkout of another commit) it is rebuilt here (`npm run build:ts`, some
 * 10 s); when dist/ is not this user's to write (the rootless run, the cgroup
 * v2 VM's nobody, a container), the run stops with what to do. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const repo = path.resolve(import.meta.dirname, "..");

/** The first source under src/ whose compiled output is missing or older, or undefined. */
export function staleSource(root = repo): string | undefined {
  const src = path.join(root, "src");
  for (const entry of fs.readdirSync(src, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    const rel = path.relative(src, file);
    if (!entry.isFile() || !rel.endsWith(".ts") || rel.endsWith(".d.ts")) continue;
    if (/\.(test|case)\.ts$/.test(rel) || rel.startsWith(`sandbox${path.sep}native${path.sep}`)) continue; // tsconfig.build.json's excludes
    const out = path.join(root, "dist", rel.replace(/\.ts$/, ".js"));
    let built: number;
    try {
      built = fs.statSync(out).mtimeMs;
    } catch {
      return rel;
    }
    if (fs.statSync(file).mtimeMs > built) return rel;
  }
  return undefined;
}

export default function setup(): void {
  const stale = staleSource();
  if (stale === undefined) return;
  const dist = path.join(repo, "dist");
  let writable = true;
  try {
    fs.accessSync(fs.existsSync(dist) ? dist : repo, fs.constants.W_OK);
  } catch {
    writable = false;
  }
  if (!writable) {
    throw new Error(`dist/ is older than src/${stale} and not writable by this user: run \`npm run build\` as the checkout's owner, then the tests again`);
  }
  const tsc = path.join(repo, "node_modules/typescript/bin/tsc");
  const built = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: repo, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (built.status !== 0) {
    throw new Error(`dist/ is older than src/${stale}, and rebuilding it failed (npm run build:ts, exit ${built.status}):\n${built.stdout}${built.stderr}`);
  }
  const still = staleSource();
  if (still !== undefined) throw new Error(`dist/ is still older than src/${still} after npm run build:ts`);
}
