import { EventEmitter } from "node:events";
import { WarrenError } from "../errors.js";
import type { FunctionFile, FunctionSource } from "../run/functions.js";
import { fromWireFiles, sourceDigest, toWireFiles, type VersionSummary, type WireFile } from "../run/function-wire.js";
import type { Limits } from "../run/limits.js";

/** Bytes of one function's versions (code, build and metadata), all together. @defaultValue 64 MiB */
export const FUNCTION_MAX_BYTES = 64 * 2 ** 20;
/** Bytes of every function's versions, all together (in memory embedded, in Redis distributed). @defaultValue 256 MiB */
export const FUNCTION_STORE_BYTES = 256 * 2 ** 20;

export interface FunctionStoreLimits {
  readonly functionMaxBytes: number;
  readonly storeMaxBytes: number;
}

/** A stored version: what GET shows (VersionSummary) and what only the worker reads (env values, compile limits). */
export interface StoredVersion extends VersionSummary {
  readonly envValues: Readonly<Record<string, string>>;
  readonly compileLimits: Limits;
}

/** A version's code: its source files and its build, stored once per digest. */
export interface StoredCode {
  readonly files: readonly FunctionFile[];
  readonly build: readonly FunctionFile[] | null;
}

/** A deploy that the store refuses: a label taken (409), a function (413) or the store (507) full. */
export class FunctionStoreError extends WarrenError {
  constructor(code: "version_exists" | "function_too_large" | "function_store_full", message: string, details?: unknown) {
    super(code, message, { details });
  }
}

/**
 * Deployed functions' versions, each immutable once committed, per scope
 * (the owner's namespace: each API key has its own names). Code is stored
 * once per digest (content-addressed) and counted against a per-function
 * and a total byte cap. Version numbers are never reused, even after a
 * delete: a number names one version's code for ever.
 */
export interface FunctionStore {
  /** A function's versions, oldest first; [] when it does not exist. */
  versions(scope: string, name: string): Promise<StoredVersion[]>;
  /** The functions of a scope, by name, with their latest version: those after `page.after`, at most `page.limit`. */
  list(scope: string, page?: ListPage): Promise<{ readonly name: string; readonly versions: number; readonly latest: StoredVersion }[]>;
  /** A version by label or number (all digits), or the latest; undefined when there is none. */
  resolve(scope: string, name: string, ref?: string): Promise<StoredVersion | undefined>;
  /** Throws FunctionStoreError when a deploy of BYTES with LABEL could not be committed now (the API's early answer). */
  check(scope: string, name: string, label: string | undefined, bytes: number): Promise<void>;
  /**
   * Stores a new version (its number the next); throws FunctionStoreError.
   * With DEPLOYID (the deploy job's id), at most once per deploy: a job run
   * again (after a stall) gets the version its first run committed, as long
   * as it exists.
   */
  commit(scope: string, source: FunctionSource, build: readonly FunctionFile[] | null, label: string | undefined, deployId?: string): Promise<StoredVersion>;
  /** A version's code by digest; undefined when no version has it any more. */
  code(digest: string): Promise<StoredCode | undefined>;
  /** Deletes a function and every version; false when it did not exist. Announces it (onRemoved) to every worker. */
  remove(scope: string, name: string): Promise<boolean>;
  /** Calls `listener` for every function removed (here or, distributed, on any API instance). */
  onRemoved(listener: (scope: string, name: string) => void): Promise<() => void>;
}

/** A page of a function list: the names after `after` (the last of the page before), at most `limit`. */
export interface ListPage {
  readonly after?: string;
  readonly limit?: number;
}

/** What a deploy answers and GET lists: no env values. */
export function summaryOf(version: StoredVersion): VersionSummary {
  const { envValues: _values, compileLimits: _compile, ...summary } = version;
  return summary;
}

/** What a version costs against the caps: its code, its build and its metadata. */
export function versionBytes(codeJson: string, metaJson: string): number {
  return Buffer.byteLength(codeJson) + Buffer.byteLength(metaJson);
}

/** The parts of a commit, made the same way by both stores. */
export function versionParts(source: FunctionSource, build: readonly FunctionFile[] | null, createdAt: string) {
  const digest = sourceDigest(source);
  const codeJson = JSON.stringify({ files: toWireFiles(source.files), build: build === null ? null : toWireFiles(build) } satisfies WireCode);
  const sourceBytes = source.files.reduce((sum, file) => sum + file.content.length, 0);
  const buildBytes = (build ?? []).reduce((sum, file) => sum + file.content.length, 0);
  const meta: Omit<StoredVersion, "version" | "number"> = {
    name: source.name,
    digest,
    language: source.language,
    languageVersion: source.languageVersion,
    image: source.image,
    mode: source.mode,
    handler: source.handler,
    env: Object.keys(source.env),
    envValues: { ...source.env },
    limits: { ...source.limits },
    compileLimits: { ...source.compileLimits },
    sizes: { sourceBytes, buildBytes, files: source.files.length },
    createdAt,
  };
  const metaJson = JSON.stringify(meta);
  return { digest, codeJson, metaJson, bytes: versionBytes(codeJson, metaJson) };
}

export interface WireCode {
  readonly files: readonly WireFile[];
  readonly build: readonly WireFile[] | null;
}

export function parseCode(json: string): StoredCode {
  const wire = JSON.parse(json) as WireCode;
  return { files: fromWireFiles(wire.files), build: wire.build === null ? null : fromWireFiles(wire.build) };
}

export function tooLarge(name: string, used: number, bytes: number, cap: number): FunctionStoreError {
  return new FunctionStoreError("function_too_large", `Function ${name}'s versions would take ${used + bytes} bytes, past the ${cap} bytes one function may keep; delete it (DELETE /v1/functions/${name}) and deploy again.`, {
    usedBytes: used,
    versionBytes: bytes,
    maxBytes: cap,
  });
}

export function storeFull(used: number, bytes: number, cap: number): FunctionStoreError {
  return new FunctionStoreError("function_store_full", `The function store holds ${used} bytes; this version (${bytes} bytes) would pass its ${cap} bytes: delete functions no longer used.`, {
    usedBytes: used,
    versionBytes: bytes,
    maxBytes: cap,
  });
}

export function labelTaken(name: string, label: string): FunctionStoreError {
  return new FunctionStoreError("version_exists", `Function ${name} has a version ${JSON.stringify(label)} already: versions are immutable, give another label.`, { label });
}

interface MemoryFunction {
  readonly versions: Map<number, { version: StoredVersion; bytes: number }>;
  readonly labels: Map<string, number>;
  bytes: number;
}

/** The embedded store: in this process, gone on restart. */
export class MemoryFunctionStore implements FunctionStore {
  readonly #functions = new Map<string, MemoryFunction>();
  /** The last number given per function, kept past a delete. */
  readonly #numbers = new Map<string, number>();
  readonly #code = new Map<string, { json: string; refs: number }>();
  /** Deploy job id → the function and number it committed; the last DEPLOYS_KEPT only. */
  readonly #deploys = new Map<string, { id: string; number: number }>();
  readonly #limits: FunctionStoreLimits;
  readonly #events = new EventEmitter();
  #bytes = 0;

  constructor(limits: Partial<FunctionStoreLimits> = {}) {
    this.#limits = { functionMaxBytes: limits.functionMaxBytes ?? FUNCTION_MAX_BYTES, storeMaxBytes: limits.storeMaxBytes ?? FUNCTION_STORE_BYTES };
    this.#events.setMaxListeners(0);
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  async versions(scope: string, name: string): Promise<StoredVersion[]> {
    return [...(this.#functions.get(key(scope, name))?.versions.values() ?? [])].map((entry) => entry.version);
  }

  async list(scope: string, page: ListPage = {}) {
    const prefix = key(scope, "");
    const listed = [];
    for (const [id, fn] of this.#functions) {
      if (!id.startsWith(prefix)) continue;
      const name = id.slice(prefix.length);
      if (page.after !== undefined && name <= page.after) continue;
      const all = [...fn.versions.values()];
      listed.push({ name, versions: all.length, latest: all[all.length - 1]!.version });
    }
    return listed.sort((a, b) => (a.name < b.name ? -1 : 1)).slice(0, page.limit ?? Number.MAX_SAFE_INTEGER);
  }

  async resolve(scope: string, name: string, ref?: string): Promise<StoredVersion | undefined> {
    const fn = this.#functions.get(key(scope, name));
    if (fn === undefined) return undefined;
    if (ref === undefined) return [...fn.versions.values()].at(-1)?.version;
    const number = /^[0-9]+$/.test(ref) ? Number(ref) : fn.labels.get(ref);
    return number === undefined ? undefined : fn.versions.get(number)?.version;
  }

  async check(scope: string, name: string, label: string | undefined, bytes: number): Promise<void> {
    const fn = this.#functions.get(key(scope, name));
    if (label !== undefined && fn?.labels.has(label) === true) throw labelTaken(name, label);
    if ((fn?.bytes ?? 0) + bytes > this.#limits.functionMaxBytes) throw tooLarge(name, fn?.bytes ?? 0, bytes, this.#limits.functionMaxBytes);
    if (this.#bytes + bytes > this.#limits.storeMaxBytes) throw storeFull(this.#bytes, bytes, this.#limits.storeMaxBytes);
  }

  async commit(scope: string, source: FunctionSource, build: readonly FunctionFile[] | null, label: string | undefined, deployId?: string): Promise<StoredVersion> {
    const id = key(scope, source.name);
    const done = deployId === undefined ? undefined : this.#deploys.get(deployId);
    const committed = done === undefined || done.id !== id ? undefined : this.#functions.get(id)?.versions.get(done.number)?.version;
    if (committed !== undefined) return committed;
    const parts = versionParts(source, build, new Date().toISOString());
    await this.check(scope, source.name, label, parts.bytes);
    let fn = this.#functions.get(id);
    if (fn === undefined) {
      fn = { versions: new Map(), labels: new Map(), bytes: 0 };
      this.#functions.set(id, fn);
    }
    const number = (this.#numbers.get(id) ?? 0) + 1;
    this.#numbers.set(id, number);
    const version = Object.freeze({ ...(JSON.parse(parts.metaJson) as Omit<StoredVersion, "version" | "number">), version: label ?? String(number), number });
    fn.versions.set(number, { version, bytes: parts.bytes });
    fn.labels.set(version.version, number);
    fn.bytes += parts.bytes;
    this.#bytes += parts.bytes;
    if (deployId !== undefined) {
      this.#deploys.set(deployId, { id, number });
      if (this.#deploys.size > DEPLOYS_KEPT) this.#deploys.delete(this.#deploys.keys().next().value!);
    }
    const code = this.#code.get(parts.digest);
    if (code === undefined) this.#code.set(parts.digest, { json: parts.codeJson, refs: 1 });
    else code.refs += 1;
    return version;
  }

  async code(digest: string): Promise<StoredCode | undefined> {
    const code = this.#code.get(digest);
    return code === undefined ? undefined : parseCode(code.json);
  }

  async remove(scope: string, name: string): Promise<boolean> {
    const id = key(scope, name);
    const fn = this.#functions.get(id);
    if (fn === undefined) return false;
    this.#functions.delete(id);
    this.#bytes -= fn.bytes;
    for (const { version } of fn.versions.values()) {
      const code = this.#code.get(version.digest);
      if (code !== undefined && --code.refs === 0) this.#code.delete(version.digest);
    }
    this.#events.emit("removed", scope, name);
    return true;
  }

  async onRemoved(listener: (scope: string, name: string) => void): Promise<() => void> {
    this.#events.on("removed", listener);
    return () => this.#events.off("removed", listener);
  }
}

const key = (scope: string, name: string) => `${scope}/${name}`;

/** Deploy ids the memory store remembers (a deploy job is run again only soon after its first run). */
const DEPLOYS_KEPT = 1024;
