/* `npm run test:images`: hello world and a stdin echo in every language of
 * every installed image (WARREN_DATA_DIR), through the real pipeline.
 * WARREN_BUILD_IMAGES=python,gcc builds those recipes first (CI builds
 * `python`, about a minute with a nearby mirror). */
import fs from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { resolveDataDir } from "../../src/config/data-dir.js";
import { openSandbox, type SandboxEnvironment } from "../../src/sandbox/environment.js";
import { buildImage } from "../../src/sandbox/images/build/build-image.js";
import { loadImageRecipe } from "../../src/sandbox/images/recipe.js";
import { ImageStore } from "../../src/sandbox/images/store/store.js";
import { jobSpecFromBody } from "../../src/worker/job-spec.js";
import { runJob } from "../../src/worker/run-job.js";

const PROGRAMS = path.join(import.meta.dirname, "programs");
const toBuild = (process.env.WARREN_BUILD_IMAGES ?? "").split(",").filter((name) => name !== "");
const dataDir = resolveDataDir();
let opened: Promise<SandboxEnvironment> | undefined;
const sandbox = () => (opened ??= openSandbox({ env: { ...process.env, WARREN_DATA_DIR: dataDir } }));

/** The programs of a language: test/images/programs/ID.hello.EXT and ID.echo.EXT. */
function program(id: string, kind: "hello" | "echo"): string {
  const file = fs.readdirSync(PROGRAMS).find((name) => name.startsWith(`${id}.${kind}.`));
  if (file === undefined) throw new Error(`No ${kind} program for ${id}: add test/images/programs/${id}.${kind}.EXT`);
  return fs.readFileSync(path.join(PROGRAMS, file), "utf8");
}

beforeAll(async () => {
  for (const name of toBuild) {
    const started = Date.now();
    const built = await buildImage(loadImageRecipe(name), dataDir);
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
});
