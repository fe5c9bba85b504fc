/* `npm run test:images`: hello world and a stdin echo in every language of
 * every installed image (WARREN_DATA_DIR), through the real pipeline; and in
 * every language, a program that cannot start through the job's own doing is
 * its runtime_error, run once (src/worker/exec-blame.ts).
 * WARREN_BUILD_IMAGES=python,gcc builds those recipes first (CI builds
 * `python`, about a minute with a nearby mirror). */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveDataDir } from "../../src/config/data-dir.js";
import { loadSettings } from "../../src/config/load-settings.js";
import { openSandboxHost, type OpenedSandboxHost } from "../../src/sandbox/sandbox-host.js";
import { buildImage } from "../../src/sandbox/images/build/build-image.js";
import { loadImageRecipe } from "../../src/sandbox/images/recipe.js";
import { ImageStore } from "../../src/sandbox/images/store/store.js";
import type { RunRequestInput } from "../../src/run/request.js";
import type { Language } from "../../src/sandbox/images/languages.js";
import { jobSpecFromBody } from "../../src/run/job-spec.js";
import type { RunResult } from "../../src/run/result.js";
import { runJob } from "../../src/worker/run-job.js";
import { couldNotStart, queuedRun, SINCE } from "../helpers/queued-run.js";

const PROGRAMS = path.join(import.meta.dirname, "programs");
const toBuild = (process.env.WARREN_BUILD_IMAGES ?? "").split(",").filter((name) => name !== "");
const settings = loadSettings(process.env);
const dataDir = resolveDataDir(settings.sandbox.dataDir);
let opened: Promise<OpenedSandboxHost> | undefined;
const sandbox = () => (opened ??= openSandboxHost(settings.sandbox, { dataDir }));

/**
 * The programs of a language: test/images/programs/ID.KIND.EXT — hello, echo,
 * system (runs the shell command on its first line of stdin, and fails when
 * it fails) and, for a few, norun (a source that compiles into no program).
 */
function program(id: string, kind: "hello" | "echo" | "system" | "norun"): string {
  const file = fs.readdirSync(PROGRAMS).find((name) => name.startsWith(`${id}.${kind}.`));
  if (file === undefined) throw new Error(`No ${kind} program for ${id}: add test/images/programs/${id}.${kind}.EXT`);
  return fs.readFileSync(path.join(PROGRAMS, file), "utf8");
}

beforeAll(async () => {
  for (const name of toBuild) {
    const started = Date.now();
    const built = await buildImage(loadImageRecipe(name), dataDir, { sandbox: settings.sandbox, mirror: settings.images.debianMirror });
    console.log(`built ${name} (${built.record.digest}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}, 3_600_000);

const names = [...new Set([...new ImageStore(dataDir).list().map((image) => image.record.name), ...toBuild])];

// With nothing to test, say so and fail rather than pass on no evidence.
if (names.length === 0) {
  it("has a built image to test", () => {
    expect.fail(`No image is installed in ${dataDir}: run \`warren image build python\` first, or set WARREN_BUILD_IMAGES=python.`);
  });
}

describe.each(names)("image %s", (name) => {
  it("lists its languages with detected versions", async () => {
    const env = await sandbox();
    const image = env.catalog.find(name);
    expect(image.languages.length).toBeGreaterThan(0);
    for (const language of image.languages) expect(language.version.detected, language.id).toMatch(/^\d/);
  });

  it("runs hello world and a stdin echo in every language", { timeout: 600_000 }, async () => {
    const env = await sandbox();
    const image = env.catalog.find(name);
    const failures: string[] = [];
    for (const language of image.languages) {
      for (const [kind, stdin, expected] of [["hello", "", "Hello, world!\n"], ["echo", "line one\nline two\n", "line one\nline two\n"]] as const) {
        const spec = jobSpecFromBody(
          { language: language.id, image: name, files: [{ path: language.sourceFile, content: program(language.id, kind) }], stdin, limits: { memoryMb: 1024, wallTimeMs: 30_000, processes: 256 }, compileLimits: { memoryMb: 2048, wallTimeMs: 60_000, processes: 256 } },
          { languages: env.catalog.languages() },
        );
        const result = await runJob(spec, env);
        const output = result.run?.stdout;
        if (result.verdict !== "accepted" || output !== expected) {
          failures.push(`${language.id} ${kind}: ${result.verdict} ${JSON.stringify(output)} ${result.compile?.stderr ?? ""}${result.run?.stderr ?? ""}${result.error?.message ?? ""}`.slice(0, 600));
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it("a program that cannot start through the job's doing is its runtime_error, run once, in every language", { timeout: 3_600_000 }, async () => {
    const env = await sandbox();
    const image = env.catalog.find(name);
    const failures: string[] = [];
    for (const language of image.languages) {
      for (const check of startChecks(language, image.env.PATH ?? "")) {
        const body: RunRequestInput = { language: language.id, image: name, limits: { memoryMb: 1024, wallTimeMs: 30_000, processes: 256 }, compileLimits: { memoryMb: 2048, wallTimeMs: 60_000, processes: 256 }, ...check.body };
        const run = await queuedRun(body, env);
        const wrong = [run.attempts === 1 ? "" : `ran ${run.attempts} times`, run.result.status === "completed" ? "" : `status ${run.result.status}`, ...check.expect(run.result)].filter((what) => what !== "");
        if (wrong.length > 0) failures.push(`${language.id} ${check.name}: ${wrong.join("; ")} ${JSON.stringify(run.result).slice(0, 1500)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

interface StartCheck {
  readonly name: string;
  readonly body: Omit<RunRequestInput, "language">;
  /** What is wrong with the result ("" or nothing when it is right). */
  readonly expect: (result: RunResult) => string[];
}

/**
 * A source that compiles into no runnable ./main, and what the run then says.
 * The other languages have none: their toolchain fails (GHC: "no Main
 * module", gfortran, gdc: no main to link) or always links a program (ocamlopt).
 */
const NO_PROGRAM: Record<string, { readonly files: (source: string) => { path: string; content: string }[]; readonly explanation: string }> = {
  // a file named -o…: the compiler takes it for an option and writes the program there
  c: { files: (source) => [{ path: source, content: program("c", "hello") }, { path: "-onowhere.c", content: "" }], explanation: "no such file — the compile stage produced no ./main" },
  cpp: { files: (source) => [{ path: source, content: program("cpp", "hello") }, { path: "-onowhere.cpp", content: "" }], explanation: "no such file — the compile stage produced no ./main" },
  go: { files: (source) => [{ path: source, content: program("go", "norun") }], explanation: "permission denied — ./main is not executable" },
  rust: { files: (source) => [{ path: source, content: program("rust", "norun") }], explanation: "permission denied — ./main is not executable" },
  pascal: { files: (source) => [{ path: source, content: program("pascal", "norun") }], explanation: "no such file — the compile stage produced no ./main" },
};

/** What test 1 does to ./main (a shell command in the work dir), and what test 2 then says. */
const SABOTAGE: readonly [string, string, string][] = [
  ["deletes ./main", "rm main", "no such file — ./main is gone; an earlier test of this job removed it"],
  ["makes ./main not executable", "chmod 644 main", `permission denied — ./main is not executable${SINCE}`],
  ["overwrites ./main with bytes", "rm main && printf '\\001\\002 not a program' > main && chmod 755 main", `exec format error — ./main is not a program${SINCE}`],
  ["puts a #! script with a missing interpreter there", "rm main && printf '#!/no/such/interpreter\\n' > main && chmod 755 main", `no such file — its interpreter /no/such/interpreter is missing${SINCE}`],
  ["replaces ./main with a directory", "rm main && mkdir main", `permission denied — ./main is not executable${SINCE}`],
  ["replaces ./main with a link to itself", "rm main && ln -s main main", `too many levels of symbolic links — ./main is a loop of symbolic links${SINCE}`],
];

/** Build artifacts that the image's runtime (not execve) loads: deleting one is the runtime's own error. */
const LOADED_ARTIFACT: Record<string, string> = { java: "Main.class", kotlin: "main.jar", csharp: "main.exe" };

/** The checks that apply to LANGUAGE: its run program is either the build's ./main or the image's runtime, looked up in PATH. */
function startChecks(language: Language, imagePath: string): StartCheck[] {
  const source = language.sourceFile;
  const system = program(language.id, "system");
  const runProgram = language.run[0] ?? "";
  const twoTests = (stdin: string) => ({ files: [{ path: source, content: system }], tests: [{ name: "1", stdin: `${stdin}\n` }, { name: "2" }] });
  const plain = (explanation: string) => (result: RunResult) => [
    result.verdict === "runtime_error" ? "" : `verdict ${result.verdict}`,
    result.run?.status === "runtime_error" && result.run.exitCode === null ? "" : `run ${result.run?.status} exit ${result.run?.exitCode}`,
    result.run?.stderr === couldNotStart(explanation) ? "" : `stderr ${JSON.stringify(result.run?.stderr)}`,
  ];
  const secondTest = (explanation: string | null) => (result: RunResult) => {
    const [first, second] = result.tests ?? [];
    return [
      result.verdict === "runtime_error" ? "" : `verdict ${result.verdict}`,
      first?.verdict === "accepted" ? "" : `test 1 ${first?.verdict}: ${first?.stderr}`,
      second?.status === "runtime_error" ? "" : `test 2 status ${second?.status}`,
      // null: the runtime's own error (it ran, and exited non-zero)
      explanation === null ? (second?.exitCode !== null && second?.stderr !== "" ? "" : "test 2 is not the runtime's own error") : second?.stderr === couldNotStart(explanation) && second.exitCode === null ? "" : `test 2 stderr ${JSON.stringify(second?.stderr)}`,
    ];
  };
  const checks: StartCheck[] = [];
  const none = NO_PROGRAM[language.id];
  if (none !== undefined) {
    checks.push({
      name: "a build that yields no program",
      body: { files: none.files(source) },
      expect: (result) => [result.compile?.status === "ok" && result.compile.exitCode === 0 ? "" : `compile ${result.compile?.status}`, ...plain(none.explanation)(result)],
    });
  }
  if (runProgram.includes("/")) {
    for (const [name, command, explanation] of SABOTAGE) checks.push({ name: `test 1 ${name}`, body: twoTests(command), expect: secondTest(explanation) });
    return checks;
  }
  checks.push({
    name: "a PATH the job set hides its runtime",
    body: { files: [{ path: source, content: system }], env: { PATH: "/nowhere" } },
    expect: plain(`no such file — ${runProgram} is not in PATH (the job set it to "/nowhere")`),
  });
  checks.push({
    name: "test 1 plants garbage named after its runtime in the job's PATH",
    body: { ...twoTests(`printf '\\001\\002 not a program' > /box/${runProgram} && chmod 755 /box/${runProgram}`), env: { PATH: `/box:${imagePath}` } },
    expect: secondTest(`exec format error — /box/${runProgram} is not a program${SINCE}`),
  });
  const artifact = LOADED_ARTIFACT[language.id];
  if (artifact !== undefined) checks.push({ name: `test 1 deletes ${artifact}`, body: twoTests(`rm ${artifact}`), expect: secondTest(null) });
  return checks;
}
