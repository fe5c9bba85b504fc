import { describe, expect, it } from "vitest";
import { denialOf, describeDenial } from "./address-policy.js";
import { cidr, parseCidr } from "./cidr.js";
import { formatIp, parseIp, type IpAddress } from "./ip-address.js";

const ip = (text: string): IpAddress => {
  const parsed = parseIp(text);
  if (parsed === undefined) throw new Error(`not an address: ${text}`);
  return parsed;
};

describe("parseIp / formatIp", () => {
  it.each([
    ["127.0.0.1", "127.0.0.1"],
    ["::1", "::1"],
    ["[::1]", "::1"],
    ["::", "::"],
    ["::ffff:127.0.0.1", "::ffff:7f00:1"],
    ["::FFFF:7F00:1", "::ffff:7f00:1"],
    ["0:0:0:0:0:ffff:7f00:0001", "::ffff:7f00:1"],
    ["64:ff9b::1.2.3.4", "64:ff9b::102:304"],
    ["fe80::1%eth0", "fe80::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1::", "1::"],
  ])("%s → %s", (text, canonical) => {
    expect(formatIp(ip(text))).toBe(canonical);
  });

  it.each(["127.1", "2130706433", "0x7f000001", "010.0.0.1", "256.0.0.1", "localhost", "1:2:3:4:5:6:7:8:9", ":::", ""])("%s is not an address (the URL parser normalises IPv4 spellings first)", (text) => {
    expect(parseIp(text)).toBeUndefined();
  });
});

/** [address, class, range or note it must name] — refused by the default policy. */
const DENIED: readonly [string, string, string][] = [
  ["127.0.0.1", "loopback", "127.0.0.0/8"],
  ["127.255.255.254", "loopback", "127.0.0.0/8"],
  ["0.0.0.0", "unspecified", "0.0.0.0/8"],
  ["0.1.2.3", "unspecified", "0.0.0.0/8"],
  ["10.0.0.1", "private", "10.0.0.0/8"],
  ["10.255.255.255", "private", "10.0.0.0/8"],
  ["172.16.0.1", "private", "172.16.0.0/12"],
  ["172.31.255.255", "private", "172.16.0.0/12"],
  ["192.168.1.1", "private", "192.168.0.0/16"],
  ["100.64.0.1", "carrier-grade NAT", "100.64.0.0/10"],
  ["100.127.255.255", "carrier-grade NAT", "100.64.0.0/10"],
  ["169.254.169.254", "link-local", "cloud metadata"],
  ["169.254.1.1", "link-local", "169.254.0.0/16"],
  ["224.0.0.1", "multicast", "224.0.0.0/4"],
  ["239.255.255.250", "multicast", "224.0.0.0/4"],
  ["255.255.255.255", "broadcast", "255.255.255.255/32"],
  ["240.0.0.1", "reserved", "240.0.0.0/4"],
  ["192.0.0.1", "reserved", "192.0.0.0/24"],
  ["192.0.2.1", "reserved", "documentation"],
  ["198.18.0.1", "reserved", "benchmarking"],
  ["198.51.100.1", "reserved", "documentation"],
  ["203.0.113.1", "reserved", "documentation"],
  ["192.88.99.1", "reserved", "6to4 relay"],
  ["::1", "loopback", "::1/128"],
  ["::", "unspecified", "::/128"],
  ["fe80::1", "link-local", "fe80::/10"],
  ["febf:ffff::1", "link-local", "fe80::/10"],
  ["fc00::1", "private", "fc00::/7"],
  ["fd00::2", "private", "fc00::/7"],
  ["fec0::1", "private", "site-local"],
  ["ff02::1", "multicast", "ff00::/8"],
  ["2001:db8::1", "reserved", "documentation"],
  ["100::1", "reserved", "discard"],
  ["3fff::1", "reserved", "documentation"],
  ["4000::1", "reserved", "outside 2000::/3"],
  ["fe00::1", "reserved", "outside 2000::/3"],
  // IPv6 forms that embed an IPv4 address, judged by it
  ["::ffff:127.0.0.1", "loopback", "IPv4-mapped 127.0.0.1"],
  ["::ffff:7f00:1", "loopback", "IPv4-mapped 127.0.0.1"],
  ["::ffff:0.0.0.0", "unspecified", "IPv4-mapped 0.0.0.0"],
  ["::ffff:10.1.2.3", "private", "IPv4-mapped 10.1.2.3"],
  ["::ffff:a9fe:a9fe", "link-local", "IPv4-mapped 169.254.169.254"],
  ["::127.0.0.1", "loopback", "IPv4-compatible 127.0.0.1"],
  ["::7f00:1", "loopback", "IPv4-compatible 127.0.0.1"],
  ["::2", "unspecified", "IPv4-compatible 0.0.0.2"],
  ["64:ff9b::127.0.0.1", "loopback", "NAT64 127.0.0.1"],
  ["64:ff9b::a9fe:a9fe", "link-local", "NAT64 169.254.169.254"],
  ["64:ff9b:1::7f00:1", "loopback", "local-use NAT64 127.0.0.1"],
  ["64:ff9b:1:7f00:0:100::", "loopback", "local-use NAT64 127.0.0.1"],
  ["64:ff9b:1:a00:1:200::", "private", "local-use NAT64 10.0.1.2"],
  ["2002:7f00:1::", "loopback", "6to4 127.0.0.1"],
  ["2002:a9fe:a9fe::1", "link-local", "6to4 169.254.169.254"],
  ["2002:c0a8:101::", "private", "6to4 192.168.1.1"],
  ["2001:0:7f00:1::f7f7:f7f7", "loopback", "Teredo 127.0.0.1"],
  ["2001:0:808:808::80ff:fffe", "loopback", "Teredo 127.0.0.1"],
  ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved", "Teredo 192.0.2.45"],
];

const ALLOWED: readonly string[] = [
  "8.8.8.8",
  "1.1.1.1",
  "11.0.0.1",
  "126.255.255.255",
  "128.0.0.1",
  "172.15.255.255",
  "172.32.0.0",
  "100.63.255.255",
  "100.128.0.0",
  "169.253.255.255",
  "169.255.0.0",
  "192.167.255.255",
  "192.169.0.0",
  "223.255.255.255",
  "2606:4700:4700::1111",
  "2a00:1450:4001::1",
  "::ffff:8.8.8.8",
  "64:ff9b::808:808",
  "2002:808:808::1",
  "2001:0:808:808::f7f7:f7f7",
];

describe("denialOf with the default policy (no allow list)", () => {
  it.each(DENIED)("refuses %s: %s (%s)", (text, kind, why) => {
    const denial = denialOf(ip(text), []);
    expect(denial?.class).toBe(kind);
    expect(describeDenial(denial!)).toContain(why);
    expect(describeDenial(denial!)).toMatch(new RegExp(`is ${kind} \\(`));
  });

  it.each(ALLOWED)("allows the public address %s", (text) => {
    expect(denialOf(ip(text), [])).toBeUndefined();
  });

  it("names the embedded address and the form that carried it", () => {
    expect(describeDenial(denialOf(ip("::ffff:127.0.0.1"), [])!)).toBe("::ffff:7f00:1 (IPv4-mapped 127.0.0.1) is loopback (127.0.0.0/8)");
    expect(describeDenial(denialOf(ip("169.254.169.254"), [])!)).toBe("169.254.169.254 is link-local (169.254.169.254/32, the cloud metadata service)");
  });
});

describe("denialOf with an operator's allow list", () => {
  const allow = ["127.0.0.0/8", "::1/128", "10.1.0.0/16"].map(cidr);
  it.each(["127.0.0.1", "127.3.4.5", "::1", "::ffff:127.0.0.1", "64:ff9b::7f00:1", "10.1.2.3", "::ffff:10.1.0.5", "8.8.8.8"])("allows %s", (text) => {
    expect(denialOf(ip(text), allow)).toBeUndefined();
  });
  it.each(["10.2.0.1", "192.168.0.1", "169.254.169.254", "::ffff:169.254.169.254", "fd00::1", "0.0.0.0", "::"])("still refuses %s", (text) => {
    expect(denialOf(ip(text), allow)).toBeDefined();
  });
});

describe("parseCidr", () => {
  it.each([
    ["10.1.0.0/16", "10.1.0.0/16"],
    [" 127.0.0.0/8 ", "127.0.0.0/8"],
    ["::1/128", "::1/128"],
    ["::1", "::1/128"],
    ["192.0.2.7", "192.0.2.7/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["fd00::/8", "fd00::/8"],
  ])("%s → %s", (text, canonical) => {
    expect(parseCidr(text)).toMatchObject({ text: canonical });
  });

  it.each([
    ["10.0.0.0/33", "from 0 to 32"],
    ["::/129", "from 0 to 128"],
    ["10.0.0.0/", "from 0 to 32"],
    ["10.0.0.0/-1", "from 0 to 32"],
    ["10.1.2.3/16", "the network is 10.1.0.0/16"],
    ["fd00::1/8", "the network is fd00::/8"],
    ["foo", "not an IPv4 or IPv6 address"],
    ["1.2.3.4/8/1", "not an IPv4 or IPv6 address"],
    ["127.1/8", "not an IPv4 or IPv6 address"],
    ["", "not an IPv4 or IPv6 address"],
  ])("refuses %s: %s", (text, reason) => {
    const parsed = parseCidr(text);
    expect(typeof parsed).toBe("string");
    expect(parsed).toContain(reason);
  });
});
