import os from "node:os";
import { describe, expect, it } from "vitest";
import { loadSettings } from "./load-settings.js";
import { COMMANDS } from "./variable.js";
import { VARIABLES } from "./variables.js";

describe("VARIABLES", () => {
  it("gives every variable a meaning, a default that holds when it is unset, and the commands that read it", () => {
    for (const [name, variable] of Object.entries(VARIABLES)) {
      expect(variable.schema.description, name).toMatch(/\S/);
      expect(variable.default, name).toMatch(/\S/);
      expect(variable.schema.safeParse(undefined).success, name).toBe(true);
      expect(variable.commands.length, name).toBeGreaterThan(0);
      for (const command of variable.commands) expect(COMMANDS, name).toContain(command);
    }
  });

  it("says each fixed default in the docs' words as the schema has it (a number or a name first)", () => {
    for (const [name, variable] of Object.entries(VARIABLES)) {
      const value: unknown = variable.schema.parse(undefined);
      if ((typeof value === "number" || typeof value === "string") && !("system" in variable)) {
        expect(variable.default.replaceAll("`", ""), name).toMatch(new RegExp(`^${String(value).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\b`));
      }
    }
  });
});

describe("loadSettings", () => {
  it("has the documented defaults", () => {
    const settings = loadSettings({ HOME: "/home/someone" });
    expect(settings.serve).toEqual({ port: 8080, host: undefined });
    expect(settings.api).toEqual({ apiKeys: [], rateLimitPerMinute: 600, bodyLimitBytes: 32 * 1024 * 1024, waitMs: 30_000, compat: [] });
    expect(settings.queue).toMatchObject({ redisUrl: undefined, concurrency: os.availableParallelism(), name: "warren", resultMaxBytes: 16 * 1024 * 1024, attempts: 3 });
    expect(settings.worker).toEqual({ shutdownMs: 30_000, metricsPort: undefined, metricsHost: "127.0.0.1", functionZygotes: 4, functionNodeZygotes: false });
    expect(settings.sandbox).toEqual({
      dataDir: { explicit: undefined, home: "/home/someone", xdgDataHome: undefined },
      cgroupRoot: undefined,
      launcher: undefined,
      poolSize: 2,
      nodeSpawn: false,
      bindProc: false,
      containerEnv: undefined,
      setupUser: "$USER",
    });
    expect(settings.images).toEqual({ registryAuthFile: "/home/someone/.config/warren/auth.json", debianMirror: undefined });
    expect(settings.telemetry).toEqual({ logLevel: "info", phaseTimings: false });
  });

  it("reads each variable into its typed setting; empty is unset", () => {
    const settings = loadSettings({
      PORT: "9000",
      WARREN_HOST: "",
      WARREN_API_KEYS: " k1, ,k2 ",
      WARREN_CALLBACK_ALLOW: "10.1.0.0/16, ::1/128",
      WARREN_METRICS_PORT: "0",
      WARREN_NODE_SPAWN: "1",
      WARREN_BIND_PROC: "1",
      container: "podman",
      WARREN_PHASE_TIMINGS: "0",
      WARREN_LOG_LEVEL: "warn",
      WARREN_REGISTRY_AUTH: "/etc/warren/auth.json",
      SUDO_USER: "alice",
      USER: "root",
    });
    expect(settings.serve).toEqual({ port: 9000, host: undefined });
    expect(settings.api.apiKeys).toEqual(["k1", "k2"]);
    expect(settings.callback.allow).toEqual(["10.1.0.0/16", "::1/128"]);
    expect(settings.worker.metricsPort).toBe(0);
    expect(settings.sandbox).toMatchObject({ nodeSpawn: true, bindProc: true, containerEnv: "podman", setupUser: "alice" });
    expect(settings.telemetry).toEqual({ logLevel: "warn", phaseTimings: false });
    expect(settings.images.registryAuthFile).toBe("/etc/warren/auth.json");
  });

  it("is frozen all the way down", () => {
    const settings = loadSettings({ WARREN_API_KEYS: "k" });
    expect(Object.isFrozen(settings)).toBe(true);
    expect(Object.isFrozen(settings.queue)).toBe(true);
    expect(Object.isFrozen(settings.sandbox.dataDir)).toBe(true);
    expect(Object.isFrozen(settings.api.apiKeys)).toBe(true);
  });

  it("names each bad variable and what it was given, in one InvalidRequestError", () => {
    expect(() => loadSettings({ PORT: "x" })).toThrow(expect.objectContaining({ code: "invalid_request", message: 'PORT must be an integer, got "x".' }));
    expect(() => loadSettings({ WARREN_POOL_SIZE: "65" })).toThrow('WARREN_POOL_SIZE must be at most 64, got "65".');
    expect(() => loadSettings({ WARREN_NODE_SPAWN: "yes" })).toThrow('WARREN_NODE_SPAWN must be 1 (on) or 0 (off), got "yes".');
    expect(loadSettings({ WARREN_COMPAT: " piston, judge0 " }).api.compat).toEqual(["piston", "judge0"]);
    expect(() => loadSettings({ WARREN_COMPAT: "judge0,openfaas" })).toThrow(/^WARREN_COMPAT takes judge0 and piston, comma-separated, got "judge0,openfaas"\.$/);
    expect(() => loadSettings({ WARREN_LOG_LEVEL: "loud" })).toThrow(/^WARREN_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"\.$/);
    expect(() => loadSettings({ WARREN_METRICS_PORT: "65536", WARREN_WAIT_MS: "-1" })).toThrow(
      expect.objectContaining({
        message: 'WARREN_WAIT_MS must be at least 0, got "-1".\nWARREN_METRICS_PORT must be at most 65535, got "65536".',
        details: [
          { variable: "WARREN_WAIT_MS", message: "WARREN_WAIT_MS must be at least 0" },
          { variable: "WARREN_METRICS_PORT", message: "WARREN_METRICS_PORT must be at most 65535" },
        ],
      }),
    );
  });

  it("does not repeat a value that may hold a password", () => {
    let message = "";
    try {
      loadSettings({ REDIS_URL: "not a url:hunter2" });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe("REDIS_URL must be a URL such as redis://127.0.0.1:6379 (its value is not repeated here: it may hold a password).");
  });

  it("with a command, checks and uses only the variables it reads", () => {
    expect(() => loadSettings({ WARREN_RATE_LIMIT: "lots" }, "serve")).toThrow(/WARREN_RATE_LIMIT must be an integer/);
    expect(loadSettings({ WARREN_RATE_LIMIT: "lots", WARREN_RESULT_MAX_BYTES: "4096" }, "run").queue.resultMaxBytes).toBe(4096);
    expect(loadSettings({ WARREN_RATE_LIMIT: "5" }, "run").api.rateLimitPerMinute).toBe(600);
  });
});
