import os from "node:os";
import { describe, expect, it } from "vitest";
import { loadSettings } from "../config/load-settings.js";
import { parseIp, type IpAddress } from "../net/ip-address.js";
import { callbackPolicy, DEFAULT_CALLBACK_POLICY, hostDenial, targetDenial } from "./callback-policy.js";

const ip = (text: string) => parseIp(text) as IpAddress;

describe("callbackPolicy (WARREN_CALLBACK_ALLOW)", () => {
  it("is public-only when unset or blank", () => {
    for (const value of [undefined, "", " , "]) expect(callbackPolicy(loadSettings({ WARREN_CALLBACK_ALLOW: value }).callback).allow).toEqual([]);
  });

  it("takes comma-separated CIDRs and bare addresses", () => {
    expect(callbackPolicy(loadSettings({ WARREN_CALLBACK_ALLOW: "127.0.0.0/8, ::1/128,10.1.0.0/16,192.0.2.7" }).callback).allow.map((range) => range.text)).toEqual(["127.0.0.0/8", "::1/128", "10.1.0.0/16", "192.0.2.7/32"]);
  });

  it.each([
    ["localhost", "not an IPv4 or IPv6 address"],
    ["10.1.2.3/16", "the network is 10.1.0.0/16"],
    ["127.0.0.0/8;::1", "from 0 to 32"],
    ["10.0.0.0/40", "from 0 to 32"],
  ])("refuses %s at start-up, naming the variable and the entry", (value, reason) => {
    expect(() => callbackPolicy(loadSettings({ WARREN_CALLBACK_ALLOW: value }).callback)).toThrow(expect.objectContaining({ code: "invalid_request", message: expect.stringMatching(new RegExp(`^Expected WARREN_CALLBACK_ALLOW .*${JSON.stringify(value).replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}.*${reason}`)) }));
  });
});

describe("targetDenial", () => {
  const loopbackAllowed = callbackPolicy(loadSettings({ WARREN_CALLBACK_ALLOW: "127.0.0.0/8,::1/128" }).callback, [8080]);

  it("refuses this API's own port on this machine even when loopback is allowed", () => {
    for (const address of ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1", "0.0.0.0", "::"]) {
      expect(targetDenial(loopbackAllowed, ip(address), 8080)).toMatch(/is this Warren API itself$/);
    }
    expect(targetDenial(loopbackAllowed, ip("127.0.0.1"), 8081)).toBeUndefined();
  });

  it("counts this machine's interface addresses as itself", () => {
    const own = Object.values(os.networkInterfaces()).flatMap((list) => list ?? []).find((entry) => !entry.internal);
    if (own === undefined) return; // a machine with loopback only has nothing more to check here
    const anywhere = callbackPolicy(loadSettings({ WARREN_CALLBACK_ALLOW: "0.0.0.0/0,::/0" }).callback, [8080]);
    expect(targetDenial(anywhere, ip(own.address), 8080)).toMatch(/is this Warren API itself$/);
    expect(targetDenial(anywhere, ip(own.address), 8081)).toBeUndefined();
  });

  it("says why a denied address is denied", () => {
    expect(targetDenial(DEFAULT_CALLBACK_POLICY, ip("::ffff:7f00:1"), 80)).toBe("::ffff:7f00:1 (IPv4-mapped 127.0.0.1) is loopback (127.0.0.0/8)");
  });
});

describe("hostDenial (at submission)", () => {
  it.each(["localhost", "LOCALHOST.", "api.localhost", "127.0.0.1", "::ffff:7f00:1", "0.0.0.0", "::", "169.254.169.254", "10.0.0.1", "fd00::1"])("refuses %s by default", (host) => {
    expect(hostDenial(DEFAULT_CALLBACK_POLICY, host, 80)).toBeDefined();
  });

  it("leaves other names to delivery, when they are resolved", () => {
    expect(hostDenial(DEFAULT_CALLBACK_POLICY, "hooks.example.com", 80)).toBeUndefined();
    expect(hostDenial(DEFAULT_CALLBACK_POLICY, "8.8.8.8", 80)).toBeUndefined();
  });

  it("takes localhost when the operator allows loopback", () => {
    const policy = callbackPolicy(loadSettings({ WARREN_CALLBACK_ALLOW: "127.0.0.0/8" }).callback);
    expect(hostDenial(policy, "localhost", 80)).toBeUndefined();
    expect(hostDenial(policy, "::1", 80)).toBeDefined();
  });
});
