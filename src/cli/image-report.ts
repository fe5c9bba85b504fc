import type { InstalledImage } from "../sandbox/images/install.js";
import { formatBytes } from "../sandbox/images/import/limits.js";

/** Prints what an import or build stored, and what it changed on the way in. */
export function reportInstall(installed: InstalledImage, seconds: number): void {
  const { record, content, reused, notes } = installed;
  const out = process.stdout;
  out.write(`${record.name}: ${record.digest}\n`);
  out.write(`  ${content.format}, ${content.files} entries, ${formatBytes(content.bytes)}${reused ? " (this content was already stored: reused)" : ""}, ${seconds.toFixed(1)} s\n`);
  if (notes.setid.length > 0) out.write(`  setuid/setgid bits dropped on ${notes.setid.length} file(s), e.g. ${notes.setid.slice(0, 3).join(", ")}: nothing gains privileges in a sandbox\n`);
  if (notes.skipped.length > 0) out.write(`  ${notes.skipped.length} device node(s)/FIFO(s) not created, e.g. ${notes.skipped.slice(0, 3).join(", ")}: sandboxes get their own /dev\n`);
  for (const language of record.languages) out.write(`  ${language.id}: ${"fixed" in language.version ? language.version.fixed : (record.versions[language.id] ?? "unknown")}\n`);
  if (installed.versionProblem !== undefined) process.stderr.write(`warren: language versions not detected (they show as "unknown"): ${installed.versionProblem}\n`);
}
