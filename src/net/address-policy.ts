import { classifyPlain, embeddedIpv4, type AddressClass } from "./address-class.js";
import { inCidr, type Cidr } from "./cidr.js";
import { formatIp, type IpAddress } from "./ip-address.js";

/** Why an address is refused: its class, and the range and form that made it so. */
export interface Denial {
  readonly address: string;
  readonly class: Exclude<AddressClass, "public">;
  readonly range: string;
  /** The IPv6 form that carried the IPv4 address judged, e.g. `IPv4-mapped 127.0.0.1`. */
  readonly via?: string;
  readonly note?: string;
}

/**
 * Whether Warren may connect to `address`: public addresses yes, every
 * special-purpose range no (address-class.ts), unless `allow` (an operator's
 * CIDRs) holds it. An IPv6 form that embeds an IPv4 address (mapped,
 * compatible, NAT64, 6to4, Teredo) is judged by the IPv4 address it leads to,
 * so `::ffff:127.0.0.1` is loopback. Returns undefined when allowed.
 */
export function denialOf(address: IpAddress, allow: readonly Cidr[]): Denial | undefined {
  if (allow.some((range) => inCidr(address, range))) return undefined;
  const embedded = embeddedIpv4(address);
  if (embedded !== undefined) {
    for (const inner of embedded.addresses) {
      const denial = denialOf(inner, allow);
      if (denial !== undefined) return { ...denial, address: formatIp(address), via: `${embedded.form} ${formatIp(inner)}` };
    }
    return undefined;
  }
  const classified = classifyPlain(address);
  if (classified.class === "public") return undefined;
  return { address: formatIp(address), class: classified.class, range: classified.range ?? "", ...(classified.note === undefined ? {} : { note: classified.note }) };
}

/** `::ffff:7f00:1 (IPv4-mapped 127.0.0.1) is loopback (127.0.0.0/8)`. */
export function describeDenial(denial: Denial): string {
  const via = denial.via === undefined ? "" : ` (${denial.via})`;
  const note = denial.note === undefined ? "" : `, ${denial.note}`;
  return `${denial.address}${via} is ${denial.class} (${denial.range}${note})`;
}
