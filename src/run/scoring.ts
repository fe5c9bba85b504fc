import type { ScoringSpec, TestSpec } from "./job-spec.js";
import type { GroupResult, Verdict } from "./result.js";

/**
 * The score sheet of a scored run (docs/api-extensions.md, *Scored tests and
 * subtasks*), filled in test by test as the worker runs them in the request's
 * order:
 *
 * - a test earns its points × its fraction: 1 when accepted, a checker's
 *   partial fraction (exit 7), else 0;
 * - a group runs only when every group it depends on passed (each of its
 *   tests accepted); it stops at its first test that is not accepted, and the
 *   tests it did not run are its `skipped`;
 * - a group with points of its own earns them × the least fraction of its
 *   tests (all or nothing, as IOI subtasks; a partial fraction scales it),
 *   0 when some of its tests did not run for another reason than its own
 *   failure; a group without points earns the sum of its tests' scores;
 * - the run's score is the sum over its groups and its tests in no group.
 */
export class ScoreSheet {
  readonly #tests: readonly TestSpec[];
  readonly #groups: ReadonlyMap<string, { readonly points: number | null; readonly dependsOn: readonly string[] }>;
  readonly #order: readonly string[];
  /** Each run test's verdict and fraction, by index. */
  readonly #ran = new Map<number, { readonly verdict: Verdict; readonly fraction: number }>();

  constructor(scoring: ScoringSpec, tests: readonly TestSpec[]) {
    this.#tests = tests;
    this.#groups = new Map(scoring.groups.map((group) => [group.name, group]));
    this.#order = scoring.groups.map((group) => group.name);
  }

  /** Whether the test at INDEX runs: its group has not failed, and the groups it depends on passed. */
  runs(index: number): boolean {
    const group = this.#tests[index]?.group ?? null;
    if (group === null) return true;
    if (this.#failed(group)) return false;
    return (this.#groups.get(group)?.dependsOn ?? []).every((dependency) => this.#passed(dependency));
  }

  /** Records a run test; returns its score and maxScore. `fraction` is a checker's partial fraction, for a test not accepted. */
  record(index: number, verdict: Verdict, fraction = 0): { score: number; maxScore: number } {
    const earned = verdict === "accepted" ? 1 : fraction;
    this.#ran.set(index, { verdict, fraction: earned });
    return this.#testScore(index);
  }

  /** The test's score and maxScore (0 and 0 when its group has points of its own: they are the group's). */
  #testScore(index: number): { score: number; maxScore: number } {
    const test = this.#tests[index];
    if (test === undefined || this.#ownPoints(test.group) !== null) return { score: 0, maxScore: 0 };
    return { score: round(test.points * (this.#ran.get(index)?.fraction ?? 0)), maxScore: test.points };
  }

  /** The run's total and its groups, from the tests recorded so far. */
  totals(): { score: number; maxScore: number; groups: GroupResult[] } {
    const groups = this.#order.map((name) => this.#groupResult(name));
    let score = groups.reduce((sum, group) => sum + group.score, 0);
    let maxScore = groups.reduce((sum, group) => sum + group.maxScore, 0);
    this.#tests.forEach((test, index) => {
      if (test.group !== null) return;
      score += this.#testScore(index).score;
      maxScore += test.points;
    });
    return { score: round(score), maxScore: round(maxScore), groups };
  }

  #groupResult(name: string): GroupResult {
    const members = this.#tests.flatMap((test, index) => (test.group === name ? [index] : []));
    const ran = members.flatMap((index) => {
      const result = this.#ran.get(index);
      return result === undefined ? [] : [result];
    });
    const skipped = members.filter((index) => !this.#ran.has(index)).map((index) => this.#tests[index]?.name ?? String(index + 1));
    const verdict = ran.length === 0 ? null : (ran.find((result) => result.verdict !== "accepted")?.verdict ?? "accepted");
    const points = this.#ownPoints(name);
    if (points === null) {
      const score = members.reduce((sum, index) => sum + this.#testScore(index).score, 0);
      const maxScore = members.reduce((sum, index) => sum + (this.#tests[index]?.points ?? 0), 0);
      return { name, score: round(score), maxScore: round(maxScore), verdict, skipped };
    }
    const complete = skipped.length === 0 || this.#failed(name);
    const least = ran.reduce((min, result) => Math.min(min, result.fraction), 1);
    return { name, score: complete && ran.length > 0 ? round(points * least) : 0, maxScore: points, verdict, skipped };
  }

  #ownPoints(group: string | null): number | null {
    return group === null ? null : (this.#groups.get(group)?.points ?? null);
  }

  /** A test of the group ran and was not accepted. */
  #failed(group: string): boolean {
    for (const [index, result] of this.#ran) if (this.#tests[index]?.group === group && result.verdict !== "accepted") return true;
    return false;
  }

  /** Every test of the group ran and was accepted. */
  #passed(group: string): boolean {
    return this.#tests.every((test, index) => test.group !== group || this.#ran.get(index)?.verdict === "accepted");
  }
}

/** Scores are sums of products of decimals: kept to 9 places so 0.1 + 0.2 reads 0.3. */
function round(value: number): number {
  return Math.round(value * 1e9) / 1e9;
}
