/**
 * A double-ended queue on a growable ring buffer: O(1) push and shift, where
 * `Array.prototype.shift` is O(n) on large arrays. Channel buffers use it.
 *
 * @module
 */

export class Deque<T> {
  #items: Array<T | undefined>;
  #head = 0;
  #size = 0;

  constructor(initialCapacity = 16) {
    let capacity = 16;
    while (capacity < initialCapacity) capacity *= 2;
    this.#items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = item;
    this.#size++;
  }

  /** Removes and returns the front item; `undefined` if empty (check `size` when `T` may be undefined). */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined; // let it be collected
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#size--;
    return item;
  }

  /** Appends `items[from]` … `items[to - 1]`, in order (a batch in one step). */
  pushAll(items: readonly T[], from: number, to: number): void {
    const count = to - from;
    while (this.#size + count > this.#items.length) this.#grow();
    const ring = this.#items;
    const mask = ring.length - 1;
    let at = (this.#head + this.#size) & mask;
    for (let i = from; i < to; i++) {
      ring[at] = items[i];
      at = (at + 1) & mask;
    }
    this.#size += count;
  }

  /** Moves up to `count` items from the front to the end of `out`, in order. */
  shiftInto(out: T[], count: number): void {
    const n = Math.min(count, this.#size);
    const ring = this.#items;
    const mask = ring.length - 1;
    let at = this.#head;
    for (let i = 0; i < n; i++) {
      out.push(ring[at] as T);
      ring[at] = undefined; // let it be collected
      at = (at + 1) & mask;
    }
    this.#head = at;
    this.#size -= n;
  }

  clear(): void {
    this.#items = new Array<T | undefined>(16);
    this.#head = 0;
    this.#size = 0;
  }

  #grow(): void {
    const old = this.#items;
    const items = new Array<T | undefined>(old.length * 2);
    for (let i = 0; i < this.#size; i++) items[i] = old[(this.#head + i) & (old.length - 1)];
    this.#items = items;
    this.#head = 0;
  }
}
