import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { cgroupRefusal } from "./cgroup-refusal.js";

/** The error FN throws, for real. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("it did not throw");
}

describe("cgroupRefusal", () => {
  it("turns a missing directory into Warren's refusal, naming it and what to do", () => {
    const missing = path.join(os.tmpdir(), `warren-no-such-${process.pid}`, "warren");
    const refusal = cgroupRefusal(thrown(() => fs.mkdirSync(missing)), "delegate", "/warren", "alice");
    expect(refusal?.code).toBe("cgroup_unavailable");
    expect(refusal?.message).toContain(`mkdir ${missing} does not exist`);
    expect(refusal?.message).toContain("sudo npx warren setup-cgroups --user alice");
    expect(refusal?.message).toContain("-v DIR:DIR:rw");
  });

  it("says how to remove a leftover it could not remove", () => {
    const refusal = cgroupRefusal(thrown(() => fs.rmdirSync(path.join(os.tmpdir(), `warren-no-such-${process.pid}`))), "reap", "/warren", "alice");
    expect(refusal?.message).toContain("could not remove a cgroup that a launcher which is gone left in /warren");
    expect(refusal?.message).toContain("rmdir");
  });

  it("leaves what is not a file system's refusal as it is", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-refusal-"));
    try {
      expect(cgroupRefusal(thrown(() => fs.mkdirSync(dir)), "delegate", "/warren", "alice")).toBeUndefined(); // EEXIST
      expect(cgroupRefusal(new TypeError("a bug"), "delegate", "/warren", "alice")).toBeUndefined();
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});
