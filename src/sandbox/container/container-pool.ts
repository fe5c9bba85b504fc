import fs from "node:fs";
import { Container, type ContainerOptions } from "./container.js";
import { PreparedBudget } from "./prepared-budget.js";

/** At most this long after a ready container is handed out, its replacement is started. */
const REFILL_DELAY_MS = 50;

export interface PoolOptions {
  /**
   * Most ready containers kept per kind (image, scratch size, cgroups).
   * @defaultValue 2
   */
  readonly maxIdle?: number;
  /**
   * A kind not asked for in this long loses its ready containers.
   * @defaultValue 60_000
   */
  readonly idleMs?: number;
  /**
   * The bound on ready containers of every kind together, shared with what
   * else keeps containers made ahead (the functions' warm containers).
   * @defaultValue unbounded (only maxIdle per kind)
   */
  readonly budget?: PreparedBudget;
  /** Called when making a ready container fails (the pool then stops refilling that kind until asked again). */
  readonly onError?: (error: unknown) => void;
}

interface Kind {
  readonly options: ContainerOptions;
  /** Ready containers, each with the identity of the rootfs directory it was made on. */
  readonly ready: { container: Container; rootfs: string }[];
  /** How many ready containers this kind should have: grows with demand, up to maxIdle. */
  target: number;
  filling: number;
  lastUsed: number;
}

/**
 * Ready containers made ahead of time — namespaces (the costly network
 * namespace among them), overlay scratch layer and init already up — so that
 * a job only has to exec, its files going with its first exec (attachFiles()). A container serves one job
 * only: `acquire` hands it out of the pool for good, the job destroys it, and
 * the pool makes a fresh one in the background. Per kind, the number kept
 * ready grows by one each time a job finds none ready (up to maxIdle) and
 * falls to zero when the kind is not asked for during idleMs.
 */
export class ContainerPool {
  readonly #maxIdle: number;
  readonly #idleMs: number;
  readonly #onError: (error: unknown) => void;
  /** Every ready container and every one being made holds a slot of it. */
  readonly budget: PreparedBudget;
  readonly #kinds = new Map<string, Kind>();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(options: PoolOptions = {}) {
    this.#maxIdle = options.maxIdle ?? 2;
    this.#idleMs = options.idleMs ?? 60_000;
    this.#onError = options.onError ?? (() => {});
    this.budget = options.budget ?? new PreparedBudget(Number.MAX_SAFE_INTEGER);
    if (!Number.isInteger(this.#maxIdle) || this.#maxIdle < 0) {
      throw new RangeError(`Expected the pool's maxIdle to be a non-negative integer, got ${String(this.#maxIdle)}`);
    }
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(1000, Math.min(this.#idleMs, 10_000)));
    this.#sweeper.unref();
  }

  /** How many containers are ready now, over all kinds. */
  get ready(): number {
    let n = 0;
    for (const kind of this.#kinds.values()) n += kind.ready.length;
    return n;
  }

  /**
   * A container for one job, with `options.files` in its work dir: a ready
   * one when there is one (its files attached to its first exec), else a new one. Either way
   * the pool refills in the background.
   */
  async acquire(options: ContainerOptions): Promise<Container> {
    const { files, ...shape } = options;
    const key = kindKey(shape);
    let kind = this.#kinds.get(key);
    if (kind === undefined) {
      kind = { options: shape, ready: [], target: 0, filling: 0, lastUsed: 0 };
      this.#kinds.set(key, kind);
    }
    kind.lastUsed = Date.now();
    let container: Container | undefined;
    // A container made on an image directory that has since been removed (and
    // perhaps imported again at the same path) would show the job a dead tree.
    const rootfs = directoryIdentity(shape.rootfs);
    while (container === undefined && kind.ready.length > 0) {
      const candidate = kind.ready.shift()!;
      this.budget.give();
      if (candidate.container.alive && candidate.rootfs === rootfs) container = candidate.container;
      else void candidate.container.destroy();
    }
    if (container === undefined) {
      kind.target = Math.min(this.#maxIdle, kind.target + 1);
      this.#fill(kind);
      return Container.create(options);
    }
    // The replacement is made once this job is done with its container, or
    // REFILL_DELAY_MS from now when the job is longer: making a container
    // takes CPU that a short job would otherwise wait for.
    const refill = setTimeout(() => this.#fill(kind), REFILL_DELAY_MS);
    refill.unref();
    void container.closed.then(() => {
      clearTimeout(refill);
      this.#fill(kind);
    });
    try {
      container.attachFiles(files ?? []); // written by the job's first exec, in the same request
    } catch (error) {
      await container.destroy();
      throw error;
    }
    return container;
  }

  /** Destroys every ready container; later acquires make containers directly. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    const all = [...this.#kinds.values()].flatMap((kind) => kind.ready.splice(0));
    for (let i = 0; i < all.length; i++) this.budget.give();
    await Promise.all(all.map((entry) => entry.container.destroy()));
  }

  #fill(kind: Kind): void {
    while (!this.#closed && kind.ready.length + kind.filling < kind.target) {
      if (!this.budget.take()) return; // the host keeps enough made ahead already
      kind.filling++;
      const rootfs = directoryIdentity(kind.options.rootfs);
      Container.create(kind.options).then(
        (container) => {
          kind.filling--;
          if (this.#closed || kind.ready.length >= kind.target) {
            this.budget.give();
            void container.destroy();
          } else kind.ready.push({ container, rootfs });
        },
        (error: unknown) => {
          kind.filling--;
          this.budget.give();
          kind.target = 0; // do not spin on a failing kind; the next acquire asks again
          this.#onError(error);
        },
      );
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, kind] of this.#kinds) {
      if (now - kind.lastUsed < this.#idleMs) continue;
      kind.target = 0;
      for (const entry of kind.ready.splice(0)) {
        this.budget.give();
        void entry.container.destroy();
      }
      if (kind.filling === 0) this.#kinds.delete(key);
    }
  }
}

/** Containers are interchangeable when everything but their files is the same. */
function kindKey(options: Omit<ContainerOptions, "files">): string {
  return JSON.stringify([options.rootfs, options.binds ?? [], options.scratchMb ?? null, options.cgroups, options.workdir ?? null, options.hostname ?? null, options.launcher ?? null]);
}

/** Device and inode of a directory ("" when it is gone): a directory removed and made again differs. */
function directoryIdentity(dir: string): string {
  try {
    const stat = fs.statSync(dir, { bigint: true });
    return `${stat.dev}:${stat.ino}`;
  } catch {
    return "";
  }
}
