import { describe, expect, it } from "vitest";
import { metricsNotice, reachOf, serveNotice } from "./listen-notice.js";

const v4 = (address: string, port = 8080) => ({ address, family: "IPv4", port });
const v6 = (address: string, port = 8080) => ({ address, family: "IPv6", port });

describe("reachOf", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.0.1.1", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["0.0.0.0", "all"],
    ["::", "all"],
    ["192.0.2.2", "address"],
    ["10.1.2.3", "address"],
    ["fd00::2", "address"],
  ])("%s: %s", (address, reach) => {
    expect(reachOf(address)).toBe(reach);
  });
});

describe("serveNotice", () => {
  it("loopback", () => {
    expect(serveNotice(v4("127.0.0.1"), false)).toBe("warren serve: listening on http://127.0.0.1:8080 — this machine only; no API keys required");
    expect(serveNotice(v6("::1"), true)).toBe("warren serve: listening on http://[::1]:8080 — this machine only; API keys required");
  });

  it("every interface", () => {
    expect(serveNotice(v6("::"), true)).toBe("warren serve: listening on http://[::]:8080 — all interfaces: anyone who can reach port 8080; API keys required");
    expect(serveNotice(v4("0.0.0.0"), false)).toMatch(/^warren serve: WARNING: listening on http:\/\/0\.0\.0\.0:8080 — all interfaces: anyone who can reach port 8080 can run code on this machine; no API keys required/);
  });

  it("one address", () => {
    expect(serveNotice(v4("10.1.2.3"), true)).toBe("warren serve: listening on http://10.1.2.3:8080 — anyone who can reach 10.1.2.3 port 8080; API keys required");
    expect(serveNotice(v4("10.1.2.3"), false)).toMatch(/^warren serve: WARNING: .* anyone who can reach 10\.1\.2\.3 port 8080 can run code on this machine; no API keys required/);
  });
});

describe("metricsNotice", () => {
  it("says where and who, and that they are open", () => {
    expect(metricsNotice(v4("127.0.0.1", 9464))).toBe("warren worker: metrics on http://127.0.0.1:9464/metrics — this machine only; no keys (/metrics and /healthz are open)");
    expect(metricsNotice(v4("0.0.0.0", 9464))).toBe("warren worker: metrics on http://0.0.0.0:9464/metrics — all interfaces: anyone who can reach port 9464; no keys (/metrics and /healthz are open)");
  });
});
