import type { FunctionVersion } from "../../run/functions.js";
import type { PreparedBudget } from "../../sandbox/container/prepared-budget.js";
import type { SandboxHost } from "../../sandbox/sandbox-host.js";
import { Prepared } from "./invocation.js";
import type { FunctionPlan } from "./plan.js";

export interface WarmPoolOptions {
  /** Most prepared containers per function version. */
  readonly maxPerVersion: number;
  /** A version not invoked for this long loses its prepared containers. */
  readonly idleMs: number;
  /** A prepared container older than this is replaced (the launcher's own wall limit on it is this plus the timeout). */
  readonly maxAgeMs: number;
  /** Shared with the runs' pool: every prepared container holds a slot while it waits. */
  readonly budget: PreparedBudget;
  /** Called when preparing a container fails (that version then stops refilling until invoked again). */
  readonly onError: (error: unknown) => void;
}

interface VersionPool {
  readonly fn: FunctionVersion;
  readonly plan: FunctionPlan;
  /** Prepared containers, oldest first; each holds a budget slot. */
  readonly ready: Prepared[];
  /** How many this version should have: grows by one at each invocation that finds none, up to maxPerVersion. */
  target: number;
  filling: number;
  lastUsed: number;
  retired: boolean;
}

/**
 * Per function version, containers in which the runtime has started and the
 * handler has been imported, each blocked reading its event (Prepared). An
 * invocation takes one for good; its container is destroyed after it, and
 * another is prepared behind it. The number kept follows the invocations:
 * one more (up to maxPerVersion) each time one finds none ready, none after
 * idleMs without an invocation; and all of them, with the runs' pool, stay
 * within the host's budget.
 */
export class WarmPools {
  readonly #host: SandboxHost;
  readonly #options: WarmPoolOptions;
  readonly #pools = new Map<string, VersionPool>();
  /** Containers being prepared: close() waits for them. */
  readonly #making = new Set<Promise<unknown>>();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(host: SandboxHost, options: WarmPoolOptions) {
    this.#host = host;
    this.#options = options;
    this.#sweeper = setInterval(() => this.#sweep(), Math.max(200, Math.min(options.idleMs, options.maxAgeMs, 10_000) / 2));
    this.#sweeper.unref();
  }

  /** Prepared containers waiting now, over every version. */
  get ready(): number {
    let n = 0;
    for (const pool of this.#pools.values()) n += pool.ready.length;
    return n;
  }

  /** Per version with prepared containers waiting now: its function's name, number and how many (usable or not: a hint for routing). */
  readyVersions(): { name: string; number: number; ready: number }[] {
    const out = [];
    for (const pool of this.#pools.values()) if (pool.ready.length > 0) out.push({ name: pool.fn.name, number: pool.fn.number, ready: pool.ready.length });
    return out;
  }

  /** Containers being prepared now. */
  get preparing(): number {
    let n = 0;
    for (const pool of this.#pools.values()) n += pool.filling;
    return n;
  }

  /** A prepared container of FN for one invocation, or undefined (the invocation is cold); either way the pool learns of the demand. */
  take(fn: FunctionVersion, plan: FunctionPlan): Prepared | undefined {
    if (this.#closed || this.#options.maxPerVersion === 0) return undefined;
    const key = keyOf(fn.name, fn.number);
    let pool = this.#pools.get(key);
    // a function deleted and deployed again numbers its versions from 1 again: the same number, another deploy
    if (pool === undefined || pool.fn.digest !== fn.digest || pool.fn.createdAt !== fn.createdAt) {
      if (pool !== undefined) this.#drop(key, pool);
      pool = { fn, plan, ready: [], target: 0, filling: 0, lastUsed: 0, retired: false };
      this.#pools.set(key, pool);
    }
    pool.lastUsed = Date.now();
    while (pool.ready.length > 0) {
      const prepared = pool.ready.shift()!;
      this.#options.budget.give();
      if (prepared.usable) return prepared;
      void prepared.destroy(); // its program ended while it waited (an import that failed late, a limit)
    }
    pool.target = Math.min(this.#options.maxPerVersion, pool.target + 1);
    return undefined;
  }

  /** Prepares what FN's pool lacks: called once an invocation is answered, so preparing does not compete with it for the CPU. */
  refill(fn: FunctionVersion): void {
    const pool = this.#pools.get(keyOf(fn.name, fn.number));
    if (pool !== undefined) this.#fill(pool);
  }

  /** Drops the prepared containers of function NAME (of version NUMBER only, when given). */
  async retire(name: string, number?: number): Promise<void> {
    const dropped: Promise<void>[] = [];
    for (const [key, pool] of this.#pools) {
      if (pool.fn.name !== name || (number !== undefined && pool.fn.number !== number)) continue;
      dropped.push(this.#drop(key, pool));
    }
    await Promise.all(dropped);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweeper);
    const dropped = [...this.#pools].map(([key, pool]) => this.#drop(key, pool));
    await Promise.all([...dropped, ...this.#making]);
  }

  #drop(key: string, pool: VersionPool): Promise<void> {
    pool.retired = true;
    pool.target = 0;
    this.#pools.delete(key);
    const ready = pool.ready.splice(0);
    for (let i = 0; i < ready.length; i++) this.#options.budget.give();
    return Promise.all(ready.map((prepared) => prepared.destroy())).then(() => {});
  }

  #fill(pool: VersionPool): void {
    while (!this.#closed && !pool.retired && pool.ready.length + pool.filling < pool.target) {
      if (!this.#options.budget.take()) return; // the host keeps enough made ahead already
      pool.filling++;
      const making = Prepared.make(this.#host, pool.plan, this.#options.maxAgeMs + pool.fn.limits.wallTimeMs).then(
        (prepared) => {
          pool.filling--;
          if (this.#closed || pool.retired || pool.ready.length >= pool.target) {
            this.#options.budget.give();
            return prepared.destroy();
          }
          pool.ready.push(prepared);
          return undefined;
        },
        (error: unknown) => {
          pool.filling--;
          this.#options.budget.give();
          pool.target = 0; // do not spin on a failing version; its next invocation asks again
          this.#options.onError(error);
        },
      );
      this.#making.add(making);
      void making.finally(() => this.#making.delete(making));
    }
  }

  #sweep(): void {
    const now = Date.now();
    const tooOld = performance.now() - this.#options.maxAgeMs;
    for (const [key, pool] of this.#pools) {
      if (now - pool.lastUsed >= this.#options.idleMs) {
        void this.#drop(key, pool);
        continue;
      }
      // Replaced before the launcher's wall limit on them can end them; so are those whose program ended.
      const stale = pool.ready.filter((prepared) => prepared.madeAt < tooOld || !prepared.usable);
      if (stale.length === 0) continue;
      pool.ready.splice(0, pool.ready.length, ...pool.ready.filter((prepared) => !stale.includes(prepared)));
      for (const prepared of stale) {
        this.#options.budget.give();
        void prepared.destroy();
      }
      this.#fill(pool);
    }
  }
}

function keyOf(name: string, number: number): string {
  return `${name}\u0000${number}`;
}
