import { describe, expect, it } from "vitest";
import { javacFlags, jvmFlags } from "./jvm-flags.js";

describe("jvmFlags", () => {
  it("gives a 256 MB JVM half for heap and caps the rest", () => {
    expect(jvmFlags(256)).toEqual([
      "-Xmx128m", "-Xss32m", "-XX:MaxMetaspaceSize=32m", "-XX:ReservedCodeCacheSize=16m",
      "-XX:+UseSerialGC", "-XX:ActiveProcessorCount=1", "-XX:-UsePerfData",
    ]);
  });

  it("keeps floors for tiny limits and ceilings for large ones", () => {
    expect(jvmFlags(32).slice(0, 4)).toEqual(["-Xmx16m", "-Xss4m", "-XX:MaxMetaspaceSize=24m", "-XX:ReservedCodeCacheSize=8m"]);
    expect(jvmFlags(4096).slice(0, 4)).toEqual(["-Xmx2048m", "-Xss64m", "-XX:MaxMetaspaceSize=256m", "-XX:ReservedCodeCacheSize=64m"]);
  });
});

describe("javacFlags", () => {
  it("passes every JVM flag through -J and stops at C1", () => {
    const flags = javacFlags(512);
    expect(flags[0]).toBe("-J-Xmx256m");
    expect(flags.every((flag) => flag.startsWith("-J-"))).toBe(true);
    expect(flags.at(-1)).toBe("-J-XX:TieredStopAtLevel=1");
  });
});
