/**
 * An indexed binary min-heap of deadlines.
 *
 * Every entry remembers its own position (`heapIndex`), so an entry can be
 * removed or moved in O(log n) when its scope exits or its deadline changes.
 * Invariants:
 * - `heapIndex` is the entry's index in `#items` while it is in the heap and -1
 *   otherwise; nothing else writes it.
 * - Entries with equal deadlines come out in the order they were pushed
 *   (`heapSeq` breaks ties), so wake-ups are deterministic.
 *
 * @module
 */

/** Something that must happen at a deadline: a cancel scope to cancel, a sleeper to wake. */
export interface DeadlineEntry {
  /** Absolute time on the runtime's clock, in ms. Finite while in the heap. */
  deadline: number;
  /** Position in the heap, or -1 when not in it. Owned by the heap. */
  heapIndex: number;
  /** Insertion order, for ties. Owned by the heap. */
  heapSeq: number;
  /** Called after the entry has been taken out of the heap because its deadline passed. */
  fire(): void;
}

export class DeadlineHeap {
  readonly #items: DeadlineEntry[] = [];
  #seq = 0;

  get size(): number {
    return this.#items.length;
  }

  /** The entry with the earliest deadline, or `undefined` if the heap is empty. */
  peek(): DeadlineEntry | undefined {
    return this.#items[0];
  }

  push(entry: DeadlineEntry): void {
    entry.heapSeq = this.#seq++;
    entry.heapIndex = this.#items.length;
    this.#items.push(entry);
    this.#up(entry.heapIndex);
  }

  /** Takes out the earliest entry. */
  pop(): DeadlineEntry | undefined {
    const items = this.#items;
    const top = items[0];
    if (top === undefined) return undefined;
    this.remove(top);
    return top;
  }

  /** Takes `entry` out of the heap; does nothing if it is not in it. */
  remove(entry: DeadlineEntry): void {
    const i = entry.heapIndex;
    if (i < 0) return;
    const items = this.#items;
    const last = items.pop()!;
    entry.heapIndex = -1;
    if (last !== entry) {
      items[i] = last;
      last.heapIndex = i;
      this.#down(i);
      this.#up(last.heapIndex);
    }
  }

  /** Restores the heap order after `entry.deadline` changed while in the heap. */
  update(entry: DeadlineEntry): void {
    if (entry.heapIndex < 0) return;
    this.#up(entry.heapIndex);
    this.#down(entry.heapIndex);
  }

  #less(a: DeadlineEntry, b: DeadlineEntry): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.heapSeq < b.heapSeq);
  }

  #up(i: number): void {
    const items = this.#items;
    const entry = items[i]!;
    while (i > 0) {
      const parentIndex = (i - 1) >> 1;
      const parent = items[parentIndex]!;
      if (!this.#less(entry, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = parentIndex;
    }
    items[i] = entry;
    entry.heapIndex = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const entry = items[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.#less(items[right]!, items[child]!)) child = right;
      const smaller = items[child]!;
      if (!this.#less(smaller, entry)) break;
      items[i] = smaller;
      smaller.heapIndex = i;
      i = child;
    }
    items[i] = entry;
    entry.heapIndex = i;
  }
}
