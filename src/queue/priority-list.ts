/** A FIFO per priority: lower priority numbers come out first, equal ones in insertion order. */
export class PriorityList<T> {
  readonly #items: { priority: number; seq: number; value: T }[] = [];
  #seq = 0;

  get size(): number {
    return this.#items.length;
  }

  push(value: T, priority: number): void {
    const item = { priority, seq: this.#seq++, value };
    // Binary search for the first item that should come after this one.
    let low = 0;
    let high = this.#items.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.#items[mid] as { priority: number }).priority <= priority) low = mid + 1;
      else high = mid;
    }
    this.#items.splice(low, 0, item);
  }

  shift(): T | undefined {
    return this.#items.shift()?.value;
  }

  /** Removes the first value that matches; whether one did. */
  remove(match: (value: T) => boolean): boolean {
    return this.take(match) !== undefined;
  }

  /** Removes and returns the first value that matches. */
  take(match: (value: T) => boolean): T | undefined {
    const index = this.#items.findIndex((item) => match(item.value));
    if (index < 0) return undefined;
    return this.#items.splice(index, 1)[0]!.value;
  }
}
