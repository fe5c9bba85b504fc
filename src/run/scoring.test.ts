import { describe, expect, it } from "vitest";
import type { ScoringSpec, TestSpec } from "./job-spec.js";
import { ScoreSheet } from "./scoring.js";

const test = (name: string, group: string | null, points = 0): TestSpec => ({ name, stdin: Buffer.alloc(0), expectedOutput: null, points, group });

describe("ScoreSheet", () => {
  it("scales a group's own points by its tests' least fraction (a checker's partial points)", () => {
    const scoring: ScoringSpec = { groups: [{ name: "g", points: 40, dependsOn: [] }] };
    const sheet = new ScoreSheet(scoring, [test("1", "g"), test("2", "g"), test("3", "g")]);
    expect(sheet.runs(0)).toBe(true);
    sheet.record(0, "accepted");
    sheet.record(1, "wrong_answer", 0.25);
    // the group stopped at its first test not accepted
    expect(sheet.runs(2)).toBe(false);
    expect(sheet.totals()).toEqual({ score: 10, maxScore: 40, groups: [{ name: "g", score: 10, maxScore: 40, verdict: "wrong_answer", skipped: ["3"] }] });
  });

  it("gives 0 to a group with points whose tests did not all run for another reason than its own failure (stopOnFirstFailure)", () => {
    const sheet = new ScoreSheet({ groups: [{ name: "g", points: 5, dependsOn: [] }] }, [test("1", "g"), test("2", "g")]);
    sheet.record(0, "accepted");
    expect(sheet.totals().groups[0]).toEqual({ name: "g", score: 0, maxScore: 5, verdict: "accepted", skipped: ["2"] });
  });

  it("runs a group only when each group it depends on passed in full", () => {
    const scoring: ScoringSpec = {
      groups: [
        { name: "a", points: null, dependsOn: [] },
        { name: "b", points: null, dependsOn: [] },
        { name: "c", points: null, dependsOn: ["a", "b"] },
      ],
    };
    const sheet = new ScoreSheet(scoring, [test("a1", "a", 1), test("b1", "b", 1), test("c1", "c", 1), test("free", null, 2)]);
    sheet.record(0, "accepted");
    sheet.record(1, "wrong_answer", 0.5);
    expect(sheet.runs(2)).toBe(false);
    expect(sheet.runs(3)).toBe(true);
    expect(sheet.record(3, "accepted")).toEqual({ score: 2, maxScore: 2 });
    expect(sheet.totals()).toEqual({
      score: 3.5,
      maxScore: 5,
      groups: [
        { name: "a", score: 1, maxScore: 1, verdict: "accepted", skipped: [] },
        { name: "b", score: 0.5, maxScore: 1, verdict: "wrong_answer", skipped: [] },
        { name: "c", score: 0, maxScore: 1, verdict: null, skipped: ["c1"] },
      ],
    });
  });

  it("adds decimals without binary noise", () => {
    const sheet = new ScoreSheet({ groups: [] }, [test("1", null, 0.1), test("2", null, 0.2)]);
    sheet.record(0, "accepted");
    sheet.record(1, "accepted");
    expect(sheet.totals().score).toBe(0.3);
  });
});
