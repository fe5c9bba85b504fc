import type { Language } from "../../../sandbox/images/languages.js";

/**
 * Judge0 CE's language ids (db/languages/active.rb of v1.13.1) for the
 * languages Warren's images may provide, each with how Judge0 names it given
 * the installed version. `aliases`: Judge0's ids of other versions of the
 * same language (e.g. C with GCC 7.4.0 and 8.3.0), accepted as submissions'
 * language_id and run with the installed version.
 */
const TABLE: readonly { readonly warren: string; readonly id: number; readonly name: (version: string) => string; readonly aliases?: readonly number[] }[] = [
  { warren: "nasm", id: 45, name: (v) => `Assembly (NASM ${v})` },
  { warren: "bash", id: 46, name: (v) => `Bash (${v})` },
  { warren: "c", id: 50, name: (v) => `C (GCC ${v})`, aliases: [48, 49] },
  { warren: "cpp", id: 54, name: (v) => `C++ (GCC ${v})`, aliases: [52, 53] },
  { warren: "csharp", id: 51, name: (v) => `C# (Mono ${v})` },
  { warren: "clojure", id: 86, name: (v) => `Clojure (${v})` },
  { warren: "d", id: 56, name: (v) => `D (DMD ${v})` },
  { warren: "elixir", id: 57, name: (v) => `Elixir (${v})` },
  { warren: "erlang", id: 58, name: (v) => `Erlang (OTP ${v})` },
  { warren: "fortran", id: 59, name: (v) => `Fortran (GFortran ${v})` },
  { warren: "go", id: 60, name: (v) => `Go (${v})` },
  { warren: "groovy", id: 88, name: (v) => `Groovy (${v})` },
  { warren: "haskell", id: 61, name: (v) => `Haskell (GHC ${v})` },
  { warren: "java", id: 62, name: (v) => `Java (OpenJDK ${v})` },
  { warren: "javascript", id: 63, name: (v) => `JavaScript (Node.js ${v})` },
  { warren: "kotlin", id: 78, name: (v) => `Kotlin (${v})` },
  { warren: "lua", id: 64, name: (v) => `Lua (${v})` },
  { warren: "ocaml", id: 65, name: (v) => `OCaml (${v})` },
  { warren: "pascal", id: 67, name: (v) => `Pascal (FPC ${v})` },
  { warren: "perl", id: 85, name: (v) => `Perl (${v})` },
  { warren: "php", id: 68, name: (v) => `PHP (${v})` },
  { warren: "python", id: 71, name: (v) => `Python (${v})` },
  { warren: "r", id: 80, name: (v) => `R (${v})` },
  { warren: "ruby", id: 72, name: (v) => `Ruby (${v})` },
  { warren: "rust", id: 73, name: (v) => `Rust (${v})` },
  { warren: "scala", id: 81, name: (v) => `Scala (${v})` },
  { warren: "swift", id: 83, name: (v) => `Swift (${v})` },
  { warren: "typescript", id: 74, name: (v) => `TypeScript (${v})` },
];

/** Judge0's "Multi-file program": additional_files holds the program, with a `run` (or `run.sh`) script and an optional `compile` (or `compile.sh`), run by Bash. */
export const PROJECT_ID = 89;

/** A Judge0 language this server runs: its Judge0 id and name, and the Warren language (its newest installed version) behind it. */
export interface Judge0Language {
  readonly id: number;
  readonly name: string;
  readonly language: Language;
  /** Language 89: no source_code, the program is additional_files' scripts (run by the `language`, Bash). */
  readonly project: boolean;
}

function newest(languages: readonly Language[], id: string): Language | undefined {
  const candidates = languages.filter((language) => language.id === id);
  // selectLanguage's order: compareVersions would need the run layer's helper; the first newest by localeCompare of numbers is enough here.
  return candidates.sort((a, b) => b.version.detected.localeCompare(a.version.detected, undefined, { numeric: true }))[0];
}

/** The Judge0 languages of the installed images, by Judge0 id; ids no installed image has are absent. */
export function judge0Languages(installed: readonly Language[]): Judge0Language[] {
  const rows: Judge0Language[] = [];
  for (const entry of TABLE) {
    const language = newest(installed, entry.warren);
    if (language !== undefined) rows.push({ id: entry.id, name: entry.name(language.version.detected), language, project: false });
  }
  const bash = newest(installed, "bash");
  if (bash !== undefined) rows.push({ id: PROJECT_ID, name: "Multi-file program", language: bash, project: true });
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

/** The language a submission's language_id names (its own id, or an alias id of another version), if installed. */
export function findJudge0Language(installed: readonly Language[], id: number): Judge0Language | undefined {
  const wanted = TABLE.find((row) => (row.aliases ?? []).includes(id))?.id ?? id;
  return judge0Languages(installed).find((row) => row.id === wanted);
}
