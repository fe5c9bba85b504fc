import { InvalidRequestError } from "../../../errors.js";

/** A parsed image reference: `[HOST[:PORT]/]REPOSITORY[:TAG][@sha256:HEX]`. */
export interface ImageReference {
  /** Registry host (and port), e.g. `127.0.0.1:5000`; Docker Hub is `registry-1.docker.io`. */
  readonly registry: string;
  /** Repository path, e.g. `library/python`. */
  readonly repository: string;
  readonly tag: string | undefined;
  readonly digest: string | undefined;
}

const DOCKER_HUB = "registry-1.docker.io";
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Parses REF as docker does: a first component with `.` or `:` (or `localhost`) is a registry host; else Docker Hub. */
export function parseReference(ref: string): ImageReference {
  const fail = (why: string) => new InvalidRequestError(`Image reference ${JSON.stringify(ref)} is not valid: ${why}. Expected [HOST[:PORT]/]NAME[:TAG][@sha256:HEX], e.g. 127.0.0.1:5000/python:3.11.`);
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw fail("the digest must be sha256: and 64 lowercase hex digits");
  }
  const slash = rest.indexOf("/");
  let registry = DOCKER_HUB;
  const first = slash >= 0 ? rest.slice(0, slash) : "";
  if (slash >= 0 && (first.includes(".") || first.includes(":") || first === "localhost" || first.startsWith("["))) {
    registry = first === "docker.io" || first === "index.docker.io" ? DOCKER_HUB : first;
    rest = rest.slice(slash + 1);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw fail(`the tag ${JSON.stringify(tag)} is not valid`);
  }
  if (rest === "") throw fail("no repository name");
  for (const component of rest.split("/")) if (!COMPONENT.test(component)) throw fail(`the name component ${JSON.stringify(component)} is not lowercase letters, digits and separators`);
  const repository = registry === DOCKER_HUB && !rest.includes("/") ? `library/${rest}` : rest;
  return { registry, repository, tag: tag ?? (digest === undefined ? "latest" : undefined), digest };
}

/** The reference as text (host/repository:tag@digest). */
export function formatReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? "" : `:${ref.tag}`}${ref.digest === undefined ? "" : `@${ref.digest}`}`;
}

/** Loopback hosts may be reached over plain HTTP without --insecure. */
export function isLoopback(registry: string): boolean {
  const host = registry.startsWith("[") ? registry.slice(1, registry.indexOf("]")) : registry.replace(/:\d+$/, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
