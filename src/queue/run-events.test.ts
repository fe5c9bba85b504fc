import { describe, expect, it } from "vitest";
import type { WireEvent } from "../run/event-wire.js";
import { RunEventWriter } from "./run-events.js";

describe("RunEventWriter", () => {
  it("keeps output events within outputBytes and other events within totalBytes, then says what it dropped", () => {
    const appended: WireEvent[] = [];
    const writer = new RunEventWriter({ outputBytes: 300, totalBytes: 600 }, (events) => appended.push(...events));
    writer.sink({ type: "stage_started", ref: { stage: "run" } });
    for (let i = 0; i < 10; i++) writer.sink({ type: "output", ref: { stage: "run" }, stream: "stdout", data: Buffer.alloc(50, 0x61) });
    const result = { status: "ok", exitCode: 0, signal: null, stdout: "", stderr: "", stdoutTruncated: false, stderrTruncated: false, cpuTimeMs: 1, wallTimeMs: 1, memoryKb: 1 } as const;
    writer.sink({ type: "stage_finished", ref: { stage: "run" }, result });
    writer.close();
    writer.sink({ type: "stage_started", ref: { stage: "run" } }); // after close: nothing
    const types = appended.map((event) => event.type);
    expect(types[0]).toBe("stage_started");
    expect(types.filter((type) => type === "dropped")).toHaveLength(2);
    expect(types.slice(-2)).toEqual(["stage_finished", "dropped"]);
    const kept = appended.filter((event) => event.type === "output");
    expect(kept.reduce((sum, event) => sum + event.json.length, 0) + (appended[0] as WireEvent).json.length).toBeLessThanOrEqual(300);
    expect(JSON.parse((appended.at(-1) as WireEvent).json)).toEqual({ events: 10 - kept.length, outputBytes: 50 * (10 - kept.length), limitBytes: 300 });
  });
});
