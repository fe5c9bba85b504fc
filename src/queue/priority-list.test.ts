import { describe, expect, it } from "vitest";
import { PriorityList } from "./priority-list.js";

describe("PriorityList", () => {
  it("returns lower priorities first and equal ones in order", () => {
    const list = new PriorityList<string>();
    list.push("a5", 5);
    list.push("b1", 1);
    list.push("c5", 5);
    list.push("d3", 3);
    list.push("e1", 1);
    expect([list.shift(), list.shift(), list.shift(), list.shift(), list.shift(), list.shift()]).toEqual(["b1", "e1", "d3", "a5", "c5", undefined]);
  });

  it("removes a value", () => {
    const list = new PriorityList<string>();
    list.push("a", 1);
    list.push("b", 1);
    expect(list.remove((value) => value === "a")).toBe(true);
    expect(list.remove((value) => value === "a")).toBe(false);
    expect(list.size).toBe(1);
    expect(list.shift()).toBe("b");
  });
});
