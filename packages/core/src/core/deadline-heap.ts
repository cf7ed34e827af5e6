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
 * - Removing an entry from the middle leaves a *tombstone* in its place: a
 *   record with the same deadline and sequence number, so the heap order holds
 *   without moving anything. Cancelling 10,000 sleepers is then 10,000 O(1)
 *   removals, not 10,000 sifts. Tombstones are dropped when they reach the top,
 *   and all at once when they are more than half of the items. `size` counts
 *   only live entries, and `peek()` never returns a tombstone.
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

/** What a removed entry leaves in the heap until it is dropped: its place in the order, nothing more. */
class Tombstone implements DeadlineEntry {
  deadline: number;
  heapIndex: number;
  heapSeq: number;

  constructor(deadline: number, heapSeq: number, heapIndex: number) {
    this.deadline = deadline;
    this.heapSeq = heapSeq;
    this.heapIndex = heapIndex;
  }

  fire(): void {}
}

/** Below this many tombstones, they are left to be dropped at the top. */
const COMPACT_AT = 64;

export class DeadlineHeap {
  readonly #items: DeadlineEntry[] = [];
  #seq = 0;
  #tombstones = 0;

  /** Live entries in the heap. */
  get size(): number {
    return this.#items.length - this.#tombstones;
  }

  /** The entry with the earliest deadline, or `undefined` if the heap is empty. */
  peek(): DeadlineEntry | undefined {
    const items = this.#items;
    while (items.length > 0 && items[0] instanceof Tombstone) {
      this.#removeAt(0);
      this.#tombstones--;
    }
    return items[0];
  }

  push(entry: DeadlineEntry): void {
    entry.heapSeq = this.#seq++;
    entry.heapIndex = this.#items.length;
    this.#items.push(entry);
    this.#up(entry.heapIndex);
  }

  /** Takes out the earliest entry. */
  pop(): DeadlineEntry | undefined {
    const top = this.peek();
    if (top === undefined) return undefined;
    this.remove(top);
    return top;
  }

  /** Takes `entry` out of the heap; does nothing if it is not in it. */
  remove(entry: DeadlineEntry): void {
    const i = entry.heapIndex;
    if (i < 0) return;
    const items = this.#items;
    entry.heapIndex = -1;
    if (i === 0 || i === items.length - 1) {
      this.#removeAt(i);
    } else {
      items[i] = new Tombstone(entry.deadline, entry.heapSeq, i);
      this.#tombstones++;
    }
    if (this.#tombstones === items.length) {
      items.length = 0;
      this.#tombstones = 0;
    } else if (this.#tombstones >= COMPACT_AT && this.#tombstones * 2 > items.length) {
      this.#compact();
    }
  }

  /** Restores the heap order after `entry.deadline` changed while in the heap. */
  update(entry: DeadlineEntry): void {
    if (entry.heapIndex < 0) return;
    this.#up(entry.heapIndex);
    this.#down(entry.heapIndex);
  }

  /** Takes the item at `i` out, moving the last item into its place. */
  #removeAt(i: number): void {
    const items = this.#items;
    const removed = items[i]!;
    const last = items.pop()!;
    if (last !== removed) {
      items[i] = last;
      last.heapIndex = i;
      this.#down(i);
      this.#up(last.heapIndex);
    }
  }

  /** Drops every tombstone and rebuilds the heap from the live entries, in O(n). */
  #compact(): void {
    const items = this.#items;
    let kept = 0;
    for (const item of items) {
      if (item instanceof Tombstone) continue;
      item.heapIndex = kept;
      items[kept++] = item;
    }
    items.length = kept;
    this.#tombstones = 0;
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.#down(i);
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
