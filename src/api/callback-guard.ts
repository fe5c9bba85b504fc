import { InvalidRequestError } from "../errors.js";
import { parseIp } from "../net/ip-address.js";
import { CALLBACK_ALLOW_HINT, DEFAULT_CALLBACK_POLICY, hostDenial, isLocalhostName, isThisMachine, type CallbackPolicy } from "../callback/callback-policy.js";

/**
 * Refuses, at submission, a callbackUrl that can never be delivered: one that
 * points back at this API (its own origin, or this machine on its port — even
 * when the policy allows loopback), a literal address the callback policy
 * refuses, or localhost while loopback is refused. A name is judged again at
 * delivery, on every connection, after it is resolved (callback-request.ts).
 */
export function assertCallbackAllowed(callbackUrl: string, requestUrl: string, ownPorts: readonly number[], policy: CallbackPolicy = DEFAULT_CALLBACK_POLICY): void {
  const target = new URL(callbackUrl);
  const self = new URL(requestUrl);
  const host = target.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(target.port || (target.protocol === "https:" ? 443 : 80));
  const literal = parseIp(host);
  const local = literal === undefined ? isLocalhostName(host) : isThisMachine(literal);
  if (target.host === self.host || (local && ownPorts.includes(port))) {
    throw new InvalidRequestError("callbackUrl points at this Warren API itself; give the address of the service that wants the result.", [
      { path: ["callbackUrl"], message: "must not be the API's own address" },
    ]);
  }
  const denial = hostDenial(policy, host, port);
  if (denial !== undefined) {
    throw new InvalidRequestError(`callbackUrl is not allowed: ${denial}. Callbacks go to public addresses only unless the operator allows more: give an address the workers may reach, or ${CALLBACK_ALLOW_HINT}.`, [
      { path: ["callbackUrl"], message: "must not be a loopback, link-local, private or reserved address" },
    ]);
  }
}
