/* The configuration tables of README.md (every variable) and docs/service.md
 * (the service's) say what src/config/variables.ts declares: the same names,
 * and for each its meaning (the schema's .describe()) and its default, word
 * for word. A failure lists every difference, with the row as it should read. */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Variable } from "../../src/config/variable.js";
import { VARIABLES } from "../../src/config/variables.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface Table {
  readonly where: string;
  /** Column names of the header row, lowercased: "variable", "meaning", "default". */
  readonly columns: readonly string[];
  readonly rows: readonly { readonly names: readonly string[]; readonly cells: Readonly<Record<string, string>>; readonly line: number }[];
}

/** The first table of `## heading` in `file`. */
function tableOf(file: string, heading: string): Table {
  const lines = fs.readFileSync(path.join(ROOT, file), "utf8").split("\n");
  const start = lines.indexOf(`## ${heading}`);
  if (start < 0) throw new Error(`${file} has no \`## ${heading}\` section`);
  const where = `${file} (## ${heading})`;
  const first = lines.findIndex((line, index) => index > start && line.startsWith("|"));
  if (first < 0 || lines.slice(start + 1, first).some((line) => line.startsWith("## "))) throw new Error(`${where} has no table`);
  const cellsOf = (line: string) => line.split(/(?<!\\)\|/).slice(1, -1).map((cell) => cell.trim());
  const columns = cellsOf(lines[first]!).map((cell) => cell.toLowerCase());
  const rows = [];
  for (let index = first + 2; index < lines.length && lines[index]!.startsWith("|"); index += 1) {
    const cells = cellsOf(lines[index]!);
    rows.push({ names: [...(cells[0] ?? "").matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1]!), cells: Object.fromEntries(columns.map((column, at) => [column, cells[at] ?? ""])), line: index + 1 });
  }
  return { where, columns, rows };
}

const declared = Object.entries(VARIABLES) as [string, Variable][];
const own = declared.filter(([, variable]) => variable.system !== true);

/** What `table` gets wrong, one message per difference. */
function differences(table: Table): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const row of table.rows) {
    if (row.names.length !== 1) {
      problems.push(`${table.where}, line ${row.line}: a row names one variable, in backticks; this one names ${row.names.length === 0 ? "none" : row.names.join(", ")}`);
      continue;
    }
    const name = row.names[0]!;
    const variable = (VARIABLES as Record<string, Variable>)[name];
    if (seen.has(name)) problems.push(`${table.where}, line ${row.line}: ${name} is listed twice`);
    seen.add(name);
    if (variable === undefined || variable.system === true) {
      problems.push(`${table.where}, line ${row.line}: ${name} is not one of Warren's variables in src/config/variables.ts (declare it there, or drop the row)`);
      continue;
    }
    const expected: Record<string, string> = { variable: `\`${name}\``, meaning: variable.schema.description ?? "", default: variable.default };
    for (const column of ["meaning", "default"]) {
      if (row.cells[column] === expected[column]) continue;
      problems.push(
        `${table.where}, line ${row.line}: ${name}'s ${column} differs\n` +
          `    the table says:           ${JSON.stringify(row.cells[column])}\n` +
          `    src/config/variables.ts:  ${JSON.stringify(expected[column])}\n` +
          `    the row as it should read: | ${table.columns.map((heading) => expected[heading] ?? "?").join(" | ")} |`,
      );
    }
  }
  return problems;
}

describe("the configuration tables say what src/config/variables.ts declares", () => {
  const readme = tableOf("README.md", "Configuration");
  const service = tableOf("docs/service.md", "Environment");

  it("both tables have the columns variable, meaning and default", () => {
    expect([...readme.columns].sort()).toEqual(["default", "meaning", "variable"]);
    expect([...service.columns].sort()).toEqual(["default", "meaning", "variable"]);
  });

  it("README.md lists every variable of Warren's, with its meaning and default", () => {
    const listed = new Set(readme.rows.flatMap((row) => row.names));
    const missing = own.filter(([name]) => !listed.has(name)).map(([name, variable]) => `README.md (## Configuration) lacks ${name}: | \`${name}\` | ${variable.schema.description} | ${variable.default} |`);
    expect([...missing, ...differences(readme)].join("\n\n")).toBe("");
  });

  it("README.md names the system's variables Warren reads too", () => {
    const text = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const section = text.slice(text.indexOf("## Configuration"), text.indexOf("\n## ", text.indexOf("## Configuration") + 1));
    const unnamed = declared.filter(([name, variable]) => variable.system === true && !section.includes(`\`${name}\``)).map(([name]) => name);
    expect(unnamed).toEqual([]);
  });

  it("docs/service.md's rows (the service's variables) read as src/config/variables.ts says", () => {
    expect(service.rows.length).toBeGreaterThan(0);
    expect(differences(service).join("\n\n")).toBe("");
  });

  it("the check does fire: a wrong default, an unknown variable and a doubled row are each named", () => {
    const table: Table = {
      where: "T",
      columns: ["variable", "meaning", "default"],
      rows: [
        { names: ["PORT"], cells: { meaning: VARIABLES.PORT.schema.description ?? "", default: "80" }, line: 3 },
        { names: ["WARREN_NOPE"], cells: { meaning: "", default: "" }, line: 4 },
        { names: ["PORT"], cells: { meaning: VARIABLES.PORT.schema.description ?? "", default: "8080" }, line: 5 },
      ],
    };
    const found = differences(table);
    expect(found).toHaveLength(3);
    expect(found[0]).toContain("T, line 3: PORT's default differs");
    expect(found[0]).toContain("| `PORT` | HTTP port of `warren serve` (`--port` wins) | 8080 |");
    expect(found[1]).toContain("WARREN_NOPE is not one of Warren's variables");
    expect(found[2]).toContain("PORT is listed twice");
  });
});
