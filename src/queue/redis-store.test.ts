import { describe, expect, it } from "vitest";
import { parseFinishedMessage } from "./redis-store.js";

describe("parseFinishedMessage", () => {
  it("reads an id alone, or an id with the result the announcement carried (its JSON bytes as sent, its owner)", () => {
    expect(parseFinishedMessage(Buffer.from("run-1"))).toEqual({ id: "run-1" });
    const json = '{"id":"run-1","note":"a\\nb ü"}';
    const parsed = parseFinishedMessage(Buffer.from(`run-1\ncompleted\n\n${json}`));
    expect(parsed).toEqual({ id: "run-1", result: { id: "run-1", status: "completed", json: Buffer.from(json) } });
    expect(parseFinishedMessage(Buffer.from(`run-1\nfailed\nowner-digest\n${json}`)).result).toMatchObject({ status: "failed", owner: "owner-digest" });
  });

  it("takes a message of another shape for an id alone: its waiter reads the result back", () => {
    expect(parseFinishedMessage(Buffer.from("run-1\nfinished\n\n{}"))).toEqual({ id: "run-1" }); // not a status
    expect(parseFinishedMessage(Buffer.from("run-1\ncompleted"))).toEqual({ id: "run-1" });
    expect(parseFinishedMessage(Buffer.from("run-1\ncompleted\nowner"))).toEqual({ id: "run-1" });
  });
});
