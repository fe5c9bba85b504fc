import net from "node:net";

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address, in network byte order. */
export interface IpAddress {
  readonly version: 4 | 6;
  readonly bytes: Uint8Array;
}

/**
 * Parses a textual IPv4 (dotted quad only, as the kernel and `net.isIPv4`
 * take it) or IPv6 address (with a dotted-quad tail, with or without
 * brackets; a zone `%eth0` is dropped). undefined when it is not one.
 * Other IPv4 spellings (`127.1`, `0x7f000001`) are names to `dns.lookup`,
 * and the WHATWG URL parser turns them into dotted quads before we see them.
 */
export function parseIp(text: string): IpAddress | undefined {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  const unzoned = bare.replace(/%.*$/s, "");
  if (net.isIPv4(unzoned)) return { version: 4, bytes: Uint8Array.from(unzoned.split(".").map(Number)) };
  if (!net.isIPv6(unzoned)) return undefined;
  return { version: 6, bytes: ipv6Bytes(unzoned) };
}

/** Expands a valid IPv6 text (net.isIPv6 checked it) into 16 bytes. */
function ipv6Bytes(text: string): Uint8Array {
  let groups = text;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(groups);
  if (dotted !== null) {
    const [a, b, c, d] = (dotted[1] as string).split(".").map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    groups = groups.slice(0, -(dotted[1] as string).length);
    if (groups.endsWith(":") && !groups.endsWith("::")) groups = groups.slice(0, -1);
  }
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((group) => Number.parseInt(group, 16)));
  const [head, rest] = groups.split("::") as [string, string | undefined];
  const before = parse(head);
  const after = [...(rest === undefined ? [] : parse(rest)), ...tail];
  const words = rest === undefined ? [...before, ...after] : [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after];
  const bytes = new Uint8Array(16);
  words.forEach((word, index) => {
    bytes[index * 2] = word >> 8;
    bytes[index * 2 + 1] = word & 0xff;
  });
  return bytes;
}

/** The canonical text of an address (RFC 5952 for IPv6: lower case, longest zero run as `::`). */
export function formatIp(address: IpAddress): string {
  if (address.version === 4) return Array.from(address.bytes).join(".");
  const words = Array.from({ length: 8 }, (_, index) => ((address.bytes[index * 2] as number) << 8) | (address.bytes[index * 2 + 1] as number));
  let best = { start: -1, length: 0 };
  for (let start = 0; start < 8; ) {
    let end = start;
    while (end < 8 && words[end] === 0) end += 1;
    if (end - start > best.length && end - start > 1) best = { start, length: end - start };
    start = end === start ? start + 1 : end;
  }
  const hex = words.map((word) => word.toString(16));
  if (best.start < 0) return hex.join(":");
  return `${hex.slice(0, best.start).join(":")}::${hex.slice(best.start + best.length).join(":")}`;
}

/** The IPv4 address in 4 bytes of `bytes` from `offset`, each XORed with `mask` (Teredo obscures its client's). */
export function ipv4At(bytes: Uint8Array, offset: number, mask = 0): IpAddress {
  return { version: 4, bytes: Uint8Array.from(bytes.subarray(offset, offset + 4), (byte) => byte ^ mask) };
}
