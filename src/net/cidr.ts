import { formatIp, parseIp, type IpAddress } from "./ip-address.js";

/** An address range: the first `prefix` bits of `base`. */
export interface Cidr {
  readonly base: IpAddress;
  readonly prefix: number;
  /** As written in canonical form, e.g. `10.1.0.0/16`. */
  readonly text: string;
}

/**
 * Parses `ADDRESS/PREFIX` (or a bare address: one host). Returns a reason
 * instead when it is not one, or when bits are set past the prefix
 * (`10.1.2.3/16` is refused: did the writer mean 10.1.0.0/16 or 10.1.2.3/32?).
 */
export function parseCidr(text: string): Cidr | string {
  const [address, prefixText, extra] = text.trim().split("/");
  const base = parseIp(address ?? "");
  if (base === undefined || extra !== undefined) return "not an IPv4 or IPv6 address with an optional /prefix";
  const bits = base.version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= bits)) return `the prefix must be a number from 0 to ${bits}`;
  const masked = { version: base.version, bytes: Uint8Array.from(base.bytes, (byte, index) => byte & maskByte(prefix, index)) };
  if (masked.bytes.some((byte, index) => byte !== base.bytes[index])) return `bits are set past the /${prefix} prefix; the network is ${formatIp(masked)}/${prefix}`;
  return { base, prefix, text: `${formatIp(base)}/${prefix}` };
}

/** A CIDR known to be valid (the tables in this code). */
export function cidr(text: string): Cidr {
  const parsed = parseCidr(text);
  if (typeof parsed === "string") throw new Error(`bad CIDR ${text}: ${parsed}`);
  return parsed;
}

/** Whether `address` is in `range` (never across IPv4 and IPv6: mapped forms are unwrapped by the caller). */
export function inCidr(address: IpAddress, range: Cidr): boolean {
  if (address.version !== range.base.version) return false;
  return range.base.bytes.every((byte, index) => ((address.bytes[index] as number) & maskByte(range.prefix, index)) === byte);
}

function maskByte(prefix: number, index: number): number {
  const bits = Math.max(0, Math.min(8, prefix - index * 8));
  return (0xff << (8 - bits)) & 0xff;
}
