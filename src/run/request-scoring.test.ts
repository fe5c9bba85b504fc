import { describe, expect, it } from "vitest";
import type { Language } from "../sandbox/images/languages.js";
import { loadImageRecipe } from "../sandbox/images/recipe.js";
import { jobSpecFromBody } from "./job-spec.js";
import { DEFAULT_RUN_LIMITS } from "./limits.js";
import type { RunRequestInput } from "./request.js";

const languages: Language[] = loadImageRecipe("host").languages.map((language) => ({ ...language, image: "host", version: { ...language.version, detected: "1.0" } }));
const context = { languages };
const files = [{ path: "main.py", content: "" }];
const body = (extra: Partial<RunRequestInput>): RunRequestInput => ({ language: "python", files, ...extra });
const spec = (extra: Partial<RunRequestInput>) => jobSpecFromBody(body(extra), context);
const refused = (extra: Partial<RunRequestInput>, message: string | RegExp) => expect(() => spec(extra)).toThrow(expect.objectContaining({ code: "invalid_request", message: expect.stringMatching(message) }));

describe("scored tests and groups in a request", () => {
  it("has no scoring without points or groups, and the groups in the order of their first test when there are", () => {
    expect(spec({ tests: [{ stdin: "1" }] }).scoring).toBeNull();
    const scored = spec({ tests: [{ group: "b", points: 1 }, { group: "a" }, { points: 2.5 }], groups: [{ name: "a", points: 10, dependsOn: ["b"] }] });
    expect(scored.scoring).toEqual({ groups: [{ name: "b", points: null, dependsOn: [] }, { name: "a", points: 10, dependsOn: ["b"] }] });
    expect(scored.tests?.map((test) => [test.points, test.group])).toEqual([[1, "b"], [0, "a"], [2.5, null]]);
  });

  it("refuses negative points, unknown or self dependencies, cycles, repeated or empty groups, and a dependency whose tests come later", () => {
    refused({ tests: [{ points: -1 }] }, /tests\.0\.points: points must not be negative/);
    refused({ tests: [{ group: "a" }], groups: [{ name: "a", points: -2 }] }, /groups\.0\.points: points must not be negative/);
    refused({ tests: [{ group: "a" }], groups: [{ name: "a", dependsOn: ["nope"] }] }, /group "a" depends on "nope", which is no group/);
    refused({ tests: [{ group: "a" }], groups: [{ name: "a", dependsOn: ["a"] }] }, /group "a" depends on itself/);
    refused(
      { tests: [{ group: "a" }, { group: "b" }, { group: "c" }], groups: [{ name: "a", dependsOn: ["c"] }, { name: "b", dependsOn: ["a"] }, { name: "c", dependsOn: ["b"] }] },
      /groups: groups depend on each other in a cycle: "a" → "c" → "b" → "a"/,
    );
    refused({ tests: [{ group: "a" }], groups: [{ name: "a" }, { name: "a" }] }, /group "a" is declared twice/);
    refused({ tests: [{ group: "a" }], groups: [{ name: "a" }, { name: "z" }] }, /group "z" has no tests/);
    refused({ groups: [{ name: "a" }] }, /groups need tests/);
    refused({ tests: [{ group: "b" }, { group: "a" }], groups: [{ name: "b", dependsOn: ["a"] }] }, /every test of "a" must come before the first test of "b" \(test 1\); test 2 does not/);
    refused({ tests: [{ group: "a", points: 1 }], groups: [{ name: "a", points: 5 }] }, /test 1 has points, but its group "a" has points of its own/);
  });
});

describe("checker programs in a request", () => {
  it("resolves the checker's language and fills its limits", () => {
    const checker = spec({ tests: [{}], checker: { kind: "program", language: "cpp", files: [{ path: "check.cpp", content: "int main(){}" }], limits: { cpuTimeMs: 500 } } }).checker;
    expect(checker).toMatchObject({ kind: "program", language: { id: "cpp" }, limits: { ...DEFAULT_RUN_LIMITS, cpuTimeMs: 500 } });
    expect(checker.kind === "program" ? checker.files[0]?.content.toString() : undefined).toBe("int main(){}");
  });

  it("refuses a checker program without files, in an unknown language, with unknown fields or limits above the maxima", () => {
    refused({ checker: { kind: "program", language: "c", files: [] } }, /checker\.files/);
    expect(() => spec({ checker: { kind: "program", language: "cobol", files } })).toThrow(expect.objectContaining({ code: "unknown_language" }));
    expect(() => spec({ checker: { kind: "program", language: "c", files, limits: { memoryMb: 99_999 } } })).toThrow(/checker\.limits\.memoryMb: memoryMb MB is above the server maximum/);
    expect(() => jobSpecFromBody({ ...body({}), checker: { kind: "program", language: "c", files, epsilon: 1 } }, context)).toThrow(/checker/);
  });
});
