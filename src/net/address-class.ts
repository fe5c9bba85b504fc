import { cidr, inCidr, type Cidr } from "./cidr.js";
import { ipv4At, type IpAddress } from "./ip-address.js";

/** What kind of destination an address is. Only `public` is reachable by default. */
export type AddressClass = "public" | "loopback" | "unspecified" | "link-local" | "private" | "carrier-grade NAT" | "multicast" | "broadcast" | "reserved";

interface SpecialRange {
  readonly range: Cidr;
  readonly class: Exclude<AddressClass, "public">;
  readonly note?: string;
}

const special = (text: string, kind: SpecialRange["class"], note?: string): SpecialRange => ({ range: cidr(text), class: kind, ...(note === undefined ? {} : { note }) });

/**
 * IPv4's special-purpose ranges (IANA's registry, RFC 6890 and successors):
 * everything here is refused unless an operator allows it. Order matters
 * only where ranges nest (the metadata address inside link-local).
 */
const IPV4: readonly SpecialRange[] = [
  special("0.0.0.0/8", "unspecified", "\"this network\": connecting to it reaches this machine"),
  special("10.0.0.0/8", "private"),
  special("100.64.0.0/10", "carrier-grade NAT"),
  special("127.0.0.0/8", "loopback"),
  special("169.254.169.254/32", "link-local", "the cloud metadata service"),
  special("169.254.0.0/16", "link-local"),
  special("172.16.0.0/12", "private"),
  special("192.0.0.0/24", "reserved", "IETF protocol assignments"),
  special("192.0.2.0/24", "reserved", "documentation"),
  special("192.88.99.0/24", "reserved", "6to4 relay anycast"),
  special("192.168.0.0/16", "private"),
  special("198.18.0.0/15", "reserved", "benchmarking"),
  special("198.51.100.0/24", "reserved", "documentation"),
  special("203.0.113.0/24", "reserved", "documentation"),
  special("224.0.0.0/4", "multicast"),
  special("255.255.255.255/32", "broadcast"),
  special("240.0.0.0/4", "reserved"),
];

/** IPv6's special-purpose ranges that do not embed an IPv4 address (those are judged by it, below). */
const IPV6: readonly SpecialRange[] = [
  special("::/128", "unspecified", "connecting to it reaches this machine"),
  special("::1/128", "loopback"),
  special("100::/64", "reserved", "discard-only"),
  special("2001:db8::/32", "reserved", "documentation"),
  special("2001::/23", "reserved", "IETF protocol assignments"),
  special("3fff::/20", "reserved", "documentation"),
  special("fc00::/7", "private", "unique local"),
  special("fe80::/10", "link-local"),
  special("fec0::/10", "private", "site-local"),
  special("ff00::/8", "multicast"),
];
/** All global unicast IPv6 is here; anything outside it is unassigned or special. */
const GLOBAL_UNICAST = cidr("2000::/3");

/** An IPv6 form that carries an IPv4 address, and where. */
interface Embedding {
  readonly range: Cidr;
  readonly form: string;
  /** The IPv4 addresses it may lead to (Teredo: its server and its client; local NAT64: both layouts). */
  readonly extract: (bytes: Uint8Array) => IpAddress[];
}

const EMBEDDINGS: readonly Embedding[] = [
  // The kernel connects to ::ffff:a.b.c.d over IPv4 (a dual-stack socket): this is that IPv4 address.
  { range: cidr("::ffff:0:0/96"), form: "IPv4-mapped", extract: (bytes) => [ipv4At(bytes, 12)] },
  { range: cidr("64:ff9b::/96"), form: "NAT64", extract: (bytes) => [ipv4At(bytes, 12)] },
  // RFC 8215's local-use prefix may carry the address as a /96 (last 32 bits) or as a /48 (RFC 6052: bits 48–63 and
  // 72–87, the rest zero). Both are judged; the layout the address fits is named first.
  {
    range: cidr("64:ff9b:1::/48"),
    form: "local-use NAT64",
    extract: (bytes) => {
      const as96 = ipv4At(bytes, 12);
      const as48: IpAddress = { version: 4, bytes: Uint8Array.of(bytes[6] as number, bytes[7] as number, bytes[9] as number, bytes[10] as number) };
      return bytes.subarray(11).every((byte) => byte === 0) ? [as48, as96] : [as96, as48];
    },
  },
  { range: cidr("2002::/16"), form: "6to4", extract: (bytes) => [ipv4At(bytes, 2)] },
  { range: cidr("2001::/32"), form: "Teredo", extract: (bytes) => [ipv4At(bytes, 4), ipv4At(bytes, 12, 0xff)] },
  // Deprecated IPv4-compatible ::a.b.c.d (after :: and ::1, which are in it but are their own class).
  { range: cidr("::/96"), form: "IPv4-compatible", extract: (bytes) => [ipv4At(bytes, 12)] },
];

/** How an address is classed, and why. */
export interface Classification {
  readonly class: AddressClass;
  /** The special range it fell in (undefined when public). */
  readonly range?: string;
  readonly note?: string;
}

/** The class of an address that is not an embedding form (IPv4, or IPv6 outside EMBEDDINGS). */
export function classifyPlain(address: IpAddress): Classification {
  const table = address.version === 4 ? IPV4 : IPV6;
  const hit = table.find((entry) => inCidr(address, entry.range));
  if (hit !== undefined) return { class: hit.class, range: hit.range.text, ...(hit.note === undefined ? {} : { note: hit.note }) };
  if (address.version === 6 && !inCidr(address, GLOBAL_UNICAST)) return { class: "reserved", range: "outside 2000::/3", note: "not global unicast" };
  return { class: "public" };
}

/** The IPv4 addresses an IPv6 embedding form leads to, and the form's name; undefined for any other address. */
export function embeddedIpv4(address: IpAddress): { readonly form: string; readonly addresses: readonly IpAddress[] } | undefined {
  if (address.version !== 6 || inCidr(address, IPV6[0]!.range) || inCidr(address, IPV6[1]!.range)) return undefined;
  const embedding = EMBEDDINGS.find((entry) => inCidr(address, entry.range));
  return embedding === undefined ? undefined : { form: embedding.form, addresses: embedding.extract(address.bytes) };
}
