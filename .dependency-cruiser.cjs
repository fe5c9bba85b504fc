/**
 * The layer check (`npm run lint:layers`, and test/layers/layers.test.ts in
 * `npm test`): every module under src/ imports only the layers below its own,
 * never a layer above it nor a folder beside it in its own layer.
 *
 * The order is not written here: it is read from the table in README.md's
 * *Layout* section (one row per layer, the top layer first), so the page that
 * tells a reader the order and the rules that hold the code to it cannot
 * disagree. The table must name every folder and file directly under src/:
 * a new one has to be given a place in the order before the check passes.
 *
 * Unit tests beside the code (*.test.ts, *.case.ts) are not held to it: a
 * test may build its fixtures from any layer (the job spec's test uses the
 * host image's real language table).
 */
const fs = require("node:fs");
const path = require("node:path");

const ROOT = __dirname;
const TESTS = "\\.(test|case)\\.ts$";

/** The layers of README.md's Layout table, top first: [{ row, names: ["src/api/", …] }]. */
function readLayers() {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const section = /^## Layout\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(readme);
  if (section === null) throw new Error("README.md has no `## Layout` section: it holds the layer order the layer check reads.");
  const rows = section[1]
    .split("\n")
    .filter((line) => line.startsWith("|") && !/^\|\s*-/.test(line))
    .slice(1) // the header
    .map((line) => line.split("|").map((cell) => cell.trim()));
  const layers = rows.map((cells) => ({ row: cells[1], names: [...(cells[2] ?? "").matchAll(/`(src\/[^`]*)`/g)].map((match) => match[1]) }));
  if (layers.length < 2 || layers.some((layer) => layer.names.length === 0)) {
    throw new Error("README.md's Layout table must list the layers, top first, each with its folders (`src/…/`) in the second column.");
  }
  const listed = layers.flatMap((layer) => layer.names);
  for (const name of listed) {
    if (!fs.existsSync(path.join(ROOT, name))) throw new Error(`README.md's Layout table names ${name}, which does not exist.`);
  }
  const unplaced = fs
    .readdirSync(path.join(ROOT, "src"), { withFileTypes: true })
    .map((entry) => (entry.isDirectory() ? `src/${entry.name}/` : `src/${entry.name}`))
    .filter((name) => !listed.includes(name));
  if (unplaced.length > 0) throw new Error(`README.md's Layout table does not place ${unplaced.join(", ")}: give each a layer.`);
  return layers;
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const pattern = (name) => `^${escape(name)}${name.endsWith("/") ? "" : "$"}`;
const any = (names) => `(${names.map(pattern).join("|")})`;

function layerRules(layers) {
  return layers.flatMap((layer, index) =>
    layer.names.map((name) => {
      const above = layers.slice(0, index).flatMap((upper) => upper.names);
      const beside = layer.names.filter((other) => other !== name);
      const below = layers.slice(index + 1).flatMap((lower) => lower.names);
      return {
        name: `layer:${name}`,
        comment: `${name} (layer "${layer.row}" in README.md's Layout) imports only what is below it: ${below.join(", ") || "nothing of Warren's"}`,
        severity: "error",
        from: { path: pattern(name), pathNot: TESTS },
        to: { path: any([...above, ...beside]) },
      };
    }),
  ).filter((rule) => rule.to.path !== "()");
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules(readLayers()),
    {
      name: "resolvable",
      comment: "An import the check cannot resolve is an arrow it cannot judge.",
      severity: "error",
      from: { path: "^src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    exclude: { path: "^src/sandbox/native/" },
    doNotFollow: { path: "node_modules" },
    // `import type` counts: a type that runs up a layer is an arrow up all the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: path.join(ROOT, "tsconfig.json") },
    // packages' `exports` (hono's subpaths), as Node resolves them
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
    cache: false,
  },
};
