import { createHash } from "node:crypto";
import { ImageCorruptError, RegistryError } from "../../../errors.js";
import { basicAuthorization, parseChallenge, type Credentials } from "./auth.js";
import { isLoopback, type ImageReference } from "./reference.js";

export const MANIFEST_TYPES = {
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;
const ACCEPT = Object.values(MANIFEST_TYPES).join(", ");
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface RegistryOptions {
  /** Plain HTTP (else HTTPS, except for loopback hosts). */
  readonly insecure?: boolean;
  readonly credentials?: Credentials | undefined;
}

/** A manifest or index as fetched: its bytes, digest and media type. */
export interface FetchedManifest {
  readonly bytes: Buffer;
  readonly digest: string;
  readonly mediaType: string;
  readonly json: unknown;
}

/**
 * A client of one repository of a distribution-API-v2 registry. Answers
 * 401 with a Bearer challenge by fetching a token from its realm (with basic
 * credentials when there are any), or with a Basic challenge by sending the
 * credentials; the token is kept for later requests.
 */
export class RegistryClient {
  readonly base: string;
  readonly #ref: ImageReference;
  readonly #credentials: Credentials | undefined;
  #authorization: string | undefined;

  constructor(ref: ImageReference, options: RegistryOptions = {}) {
    const plain = options.insecure === true || isLoopback(ref.registry);
    this.base = `${plain ? "http" : "https"}://${ref.registry}`;
    this.#ref = ref;
    this.#credentials = options.credentials;
  }

  /** GET /v2/REPO/manifests/REFERENCE; a digest reference is checked against the bytes. */
  async manifest(reference: string): Promise<FetchedManifest> {
    const what = `manifest ${this.#ref.registry}/${this.#ref.repository}:${reference}`.replace(":sha256:", "@sha256:");
    const response = await this.get(`manifests/${reference}`, { accept: ACCEPT });
    if (response.status === 404) {
      await response.body?.cancel();
      throw new RegistryError("registry_not_found", `The registry has no ${what} (404): check the name and tag.`, { status: 404 });
    }
    await this.#check(response, what);
    const length = Number(response.headers.get("content-length") ?? "0");
    if (length > MAX_MANIFEST_BYTES) throw new ImageCorruptError(`The ${what} is larger than 4 MiB; it is not an image manifest.`);
    const bytes = Buffer.from(await response.arrayBuffer());
    if (bytes.length > MAX_MANIFEST_BYTES) throw new ImageCorruptError(`The ${what} is larger than 4 MiB; it is not an image manifest.`);
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    if (reference.startsWith("sha256:") && digest !== reference) {
      throw new ImageCorruptError(`The ${what} does not match its digest: its content has ${digest}.`, { details: { expected: reference, actual: digest } });
    }
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString("utf8"));
    } catch (error) {
      throw new ImageCorruptError(`The ${what} is not valid JSON: ${(error as Error).message}`);
    }
    const declared = typeof json === "object" && json !== null && "mediaType" in json && typeof json.mediaType === "string" ? json.mediaType : undefined;
    const mediaType = declared ?? response.headers.get("content-type")?.split(";")[0]?.trim() ?? "";
    return { bytes, digest, mediaType, json };
  }

  /** GET /v2/REPO/blobs/DIGEST, from byte `offset` on (a Range request) when offset > 0. */
  async blob(digest: string, offset: number, signal?: AbortSignal): Promise<Response> {
    const response = await this.get(`blobs/${digest}`, { ...(offset > 0 ? { range: `bytes=${offset}-` } : {}) }, signal);
    if (response.status === 404) {
      await response.body?.cancel();
      throw new RegistryError("registry_not_found", `The registry has no blob ${digest} in ${this.#ref.repository} (404).`, { status: 404, digest });
    }
    if (response.status === 416) return response;
    await this.#check(response, `blob ${digest}`);
    return response;
  }

  /** A GET below /v2/REPO/, authenticating on a 401 challenge (once). */
  async get(rel: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    const url = `${this.base}/v2/${this.#ref.repository}/${rel}`;
    let response = await this.#fetch(url, headers, signal);
    if (response.status !== 401) return response;
    const header = response.headers.get("www-authenticate") ?? "";
    await response.body?.cancel();
    this.#authorization = await this.#authorize(header, signal);
    response = await this.#fetch(url, headers, signal);
    if (response.status === 401) {
      await response.body?.cancel();
      throw this.#authError(url);
    }
    return response;
  }

  #authError(url: string): RegistryError {
    return new RegistryError(
      "registry_auth_failed",
      `The registry ${this.#ref.registry} refused ${this.#credentials === undefined ? "anonymous access" : `the credentials of ${JSON.stringify(this.#credentials.username)}`} to ${this.#ref.repository} (401 at ${url}); put credentials in the file $WARREN_REGISTRY_AUTH or ~/.config/warren/auth.json names (docs/images.md).`,
      { status: 401 },
    );
  }

  async #fetch(url: string, headers: Record<string, string>, signal?: AbortSignal): Promise<Response> {
    try {
      return await fetch(url, { headers: { ...headers, ...(this.#authorization === undefined ? {} : { authorization: this.#authorization }) }, ...(signal === undefined ? {} : { signal }) });
    } catch (error) {
      if (signal?.aborted === true) throw error;
      const cause = (error as { cause?: { message?: string; code?: string } }).cause;
      throw new RegistryError("registry_unreachable", `Cannot reach the registry at ${url}: ${cause?.message ?? (error as Error).message}${url.startsWith("https:") && cause?.code !== "ENOTFOUND" && cause?.code !== "EAI_AGAIN" ? " (a registry served over plain HTTP needs --insecure)" : ""}.`, { url, code: cause?.code });
    }
  }

  /** The Authorization header a challenge asks for. */
  async #authorize(header: string, signal?: AbortSignal): Promise<string> {
    const challenge = parseChallenge(header);
    if (challenge?.scheme === "basic") {
      if (this.#credentials === undefined) throw this.#authError(`${this.base}/v2/`);
      return basicAuthorization(this.#credentials);
    }
    if (challenge?.scheme !== "bearer" || challenge.params.realm === undefined) {
      throw new RegistryError("registry_auth_failed", `The registry ${this.#ref.registry} asks for authentication Warren does not speak (WWW-Authenticate: ${JSON.stringify(header)}).`, { header });
    }
    const token = new URL(challenge.params.realm);
    if (challenge.params.service !== undefined) token.searchParams.set("service", challenge.params.service);
    token.searchParams.set("scope", challenge.params.scope ?? `repository:${this.#ref.repository}:pull`);
    let response: Response;
    try {
      response = await fetch(token, {
        headers: this.#credentials === undefined ? {} : { authorization: basicAuthorization(this.#credentials) },
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      throw new RegistryError("registry_unreachable", `Cannot reach the token service ${token.origin}${token.pathname}: ${(error as { cause?: Error }).cause?.message ?? (error as Error).message}.`);
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw new RegistryError("registry_auth_failed", `The token service ${token.origin}${token.pathname} refused ${this.#credentials === undefined ? "anonymous access" : `the credentials of ${JSON.stringify(this.#credentials.username)}`} (${response.status}).`, { status: response.status });
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new RegistryError("registry_error", `The token service ${token.origin}${token.pathname} answered ${response.status}.`, { status: response.status });
    }
    const body = (await response.json().catch(() => ({}))) as { token?: unknown; access_token?: unknown };
    const value = typeof body.token === "string" ? body.token : typeof body.access_token === "string" ? body.access_token : undefined;
    if (value === undefined) throw new RegistryError("registry_auth_failed", `The token service ${token.origin}${token.pathname} answered without a token.`);
    return `Bearer ${value}`;
  }

  async #check(response: Response, what: string): Promise<void> {
    if (response.ok) return;
    const text = await response.text().catch(() => "");
    if (response.status === 403) throw new RegistryError("registry_auth_failed", `The registry refused access to the ${what} (403).`, { status: 403 });
    throw new RegistryError("registry_error", `The registry answered ${response.status} for the ${what}: ${text.slice(0, 300)}`, { status: response.status });
  }
}
