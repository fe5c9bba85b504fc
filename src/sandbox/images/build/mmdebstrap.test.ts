import { describe, expect, it } from "vitest";
import { loadImageRecipe } from "../recipe.js";
import { mmdebstrapArgs } from "./mmdebstrap.js";

describe("mmdebstrapArgs", () => {
  it("builds the python recipe as a tarball on stdout, without docs, with the cleanup hook", () => {
    const recipe = loadImageRecipe("python");
    if (recipe.rootfs.kind !== "debian") throw new Error("the python recipe is a debian build");
    const args = mmdebstrapArgs(recipe.rootfs, { mirror: "http://m.example/debian" });
    expect(args.slice(0, 5)).toEqual(["--mode=auto", "--variant=essential", "--components=main", "--format=tar", "--include=python3"]);
    expect(args).toContain("--dpkgopt=path-exclude=/usr/share/doc/*");
    expect(args).toContain('--customize-hook=cd "$1" && rm -rf ./var/lib/apt/lists/* ./var/cache/apt/* ./var/log/*');
    expect(args.slice(-3)).toEqual(["bookworm", "-", "http://m.example/debian"]);
  });

  it.each(["gcc", "jvm", "node", "polyglot"])("parses the shipped %s recipe", (name) => {
    expect(loadImageRecipe(name).rootfs.kind).toBe("debian");
  });

  it("ships 20+ languages in the polyglot recipe", () => {
    expect(loadImageRecipe("polyglot").languages.length).toBeGreaterThanOrEqual(20);
  });
});
