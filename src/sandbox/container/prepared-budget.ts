/**
 * One bound on the containers kept made ahead of their use on this host, of
 * every kind: the runs' ContainerPool and the functions' warm containers
 * take from the same budget, so that neither can fill the machine with idle
 * containers the other then lacks room for. A slot is held from the moment a
 * container starts being made ahead until it is handed out or destroyed.
 */
export class PreparedBudget {
  readonly max: number;
  #held = 0;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0) throw new RangeError(`Expected the prepared containers' bound to be a non-negative integer, got ${String(max)}`);
    this.max = max;
  }

  /** Slots held now. */
  get held(): number {
    return this.#held;
  }

  /** Takes a slot when one is free. */
  take(): boolean {
    if (this.#held >= this.max) return false;
    this.#held++;
    return true;
  }

  /** Gives a slot back (its container was handed out, or destroyed). */
  give(): void {
    if (this.#held === 0) throw new RangeError("A prepared container's slot was given back twice.");
    this.#held--;
  }
}
