import { loadSettings } from "../config/load-settings.js";
import type { Environment } from "../config/settings.js";
import { runDoctor } from "../sandbox/doctor.js";
import { parseCommand } from "./args.js";

const USAGE = "Usage: warren doctor [--json]";

/** `warren doctor`: every prerequisite, ✓ or ✗, with the fix for each ✗. Exit 1 when any is missing. */
export async function doctorCommand(argv: string[], env: Environment): Promise<number> {
  const parsed = parseCommand("doctor", USAGE, { args: argv, strict: true, options: { json: { type: "boolean", default: false } } });
  if (parsed === undefined) return 0;
  const { values } = parsed;
  const sections = await runDoctor(loadSettings(env, "doctor").sandbox);
  const allOk = sections.every((section) => section.items.every((item) => item.ok));
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ ok: allOk, sections }, null, 2)}\n`);
    return allOk ? 0 : 1;
  }
  for (const section of sections) {
    process.stdout.write(`${section.title}\n`);
    for (const item of section.items) {
      process.stdout.write(`  ${item.ok ? "✓" : "✗"} ${item.name}: ${item.detail}\n`);
      if (!item.ok && item.fix !== undefined) process.stdout.write(`      fix: ${item.fix}\n`);
    }
  }
  process.stdout.write(allOk ? "\nThis host can run Warren sandboxes.\n" : "\nSome prerequisites are missing: apply the fixes above, then run `warren doctor` again.\n");
  return allOk ? 0 : 1;
}
