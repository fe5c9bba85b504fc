import os from "node:os";
import type { CallbackSettings } from "../config/settings.js";
import { InvalidRequestError } from "../errors.js";
import { classifyPlain, embeddedIpv4 } from "../net/address-class.js";
import { denialOf, describeDenial } from "../net/address-policy.js";
import { parseCidr, type Cidr } from "../net/cidr.js";
import { formatIp, parseIp, type IpAddress } from "../net/ip-address.js";

/**
 * Where callbacks may go. By default only to public addresses: a callback is
 * a request the client makes Warren send from inside the operator's network,
 * so loopback, link-local (the cloud metadata service), private, CGNAT,
 * multicast and reserved ranges are refused (and every IPv6 form that embeds
 * such an IPv4 address). Enforced for every connection, after DNS resolution
 * (callback-request.ts), and for literal addresses at submission.
 */
export interface CallbackPolicy {
  /** Ranges allowed besides public addresses (WARREN_CALLBACK_ALLOW). @defaultValue none */
  readonly allow: readonly Cidr[];
  /** The ports of the Warren API in this process: never a target on this machine's own addresses, whatever `allow` says. @defaultValue none */
  readonly selfPorts: readonly number[];
}

export const DEFAULT_CALLBACK_POLICY: CallbackPolicy = Object.freeze({ allow: Object.freeze([]), selfPorts: Object.freeze([]) });

export const CALLBACK_ALLOW_HINT = "set WARREN_CALLBACK_ALLOW to the CIDRs to allow (e.g. 10.1.0.0/16, or 127.0.0.0/8,::1/128 for this machine) on the API and on every worker";

/** The policy from WARREN_CALLBACK_ALLOW's entries (CIDRs, or bare addresses); throws InvalidRequestError naming the variable. */
export function callbackPolicy(settings: CallbackSettings, selfPorts: readonly number[] = []): CallbackPolicy {
  const allow: Cidr[] = [];
  for (const entry of settings.allow) {
    const parsed = parseCidr(entry);
    if (typeof parsed === "string") {
      throw new InvalidRequestError(`Expected WARREN_CALLBACK_ALLOW to be comma-separated CIDRs such as 127.0.0.0/8,::1/128,10.1.0.0/16; ${JSON.stringify(entry)}: ${parsed}.`);
    }
    allow.push(parsed);
  }
  return Object.freeze({ allow: Object.freeze(allow), selfPorts: Object.freeze([...selfPorts]) });
}

/** Why a connection to `address`:`port` is refused, or undefined when it may be made. */
export function targetDenial(policy: CallbackPolicy, address: IpAddress, port: number): string | undefined {
  if (policy.selfPorts.includes(port) && isThisMachine(address)) return `${formatIp(address)} port ${port} is this Warren API itself`;
  const denial = denialOf(address, policy.allow);
  return denial === undefined ? undefined : describeDenial(denial);
}

/** localhost and *.localhost always mean this machine (RFC 6761), whatever DNS says. */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, "");
  return name === "localhost" || name.endsWith(".localhost");
}

const LOOPBACK = [parseIp("127.0.0.1"), parseIp("::1")] as IpAddress[];

/**
 * At submission: why a callback host can never be allowed — a literal address
 * the policy refuses, or a localhost name while loopback is refused. Other
 * names are judged when they are resolved, at delivery.
 */
export function hostDenial(policy: CallbackPolicy, hostname: string, port: number): string | undefined {
  const literal = parseIp(hostname);
  if (literal !== undefined) return targetDenial(policy, literal, port);
  if (!isLocalhostName(hostname)) return undefined;
  const denials = LOOPBACK.map((address) => targetDenial(policy, address, port));
  return denials.every((denial) => denial !== undefined) ? `${hostname} is this machine (${denials.join("; ")})` : undefined;
}

/** Whether `address` is this machine: loopback, unspecified, or one of its interfaces' addresses. */
export function isThisMachine(address: IpAddress): boolean {
  const mapped = embeddedIpv4(address);
  const plain = mapped?.form === "IPv4-mapped" ? (mapped.addresses[0] as IpAddress) : address;
  const kind = classifyPlain(plain).class;
  if (kind === "loopback" || kind === "unspecified") return true;
  const text = formatIp(plain);
  return Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .some((entry) => {
      const own = parseIp(entry.address);
      return own !== undefined && formatIp(own) === text;
    });
}
