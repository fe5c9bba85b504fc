import { InvalidRequestError } from "../errors.js";

const LOCAL_HOSTS = new Set(["localhost", "0.0.0.0", "[::]", "[::1]", "::1"]);

/**
 * Refuses a callbackUrl that points back at this API (its own origin, or a
 * local address on its port): a webhook must never make Warren call itself.
 */
export function assertNotSelf(callbackUrl: string, requestUrl: string, ownPorts: readonly number[]): void {
  const target = new URL(callbackUrl);
  const self = new URL(requestUrl);
  const port = Number(target.port || (target.protocol === "https:" ? 443 : 80));
  const local = LOCAL_HOSTS.has(target.hostname) || /^127\./.test(target.hostname) || target.hostname.endsWith(".localhost");
  if (target.host === self.host || (local && ownPorts.includes(port))) {
    throw new InvalidRequestError("callbackUrl points at this Warren API itself; give the address of the service that wants the result.", [
      { path: ["callbackUrl"], message: "must not be the API's own address" },
    ]);
  }
}
