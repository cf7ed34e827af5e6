/**
 * The "raw" peer's channel: the smallest hand-written bounded channel with
 * backpressure over plain promises and resolver queues — what a careful
 * engineer writes without a library, and so the practical speed limit.
 * No cancellation, no close semantics beyond "done".
 */
export class RawChannel<T> {
  readonly #capacity: number;
  readonly #buffer: T[] = [];
  #bufferHead = 0;
  readonly #receivers: Array<(value: IteratorResult<T>) => void> = [];
  readonly #senders: Array<{ value: T; resolve: () => void }> = [];
  #closed = false;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  send(value: T): Promise<void> | undefined {
    const receiver = this.#receivers.shift();
    if (receiver !== undefined) {
      receiver({ value, done: false });
      return undefined;
    }
    if (this.#buffer.length - this.#bufferHead < this.#capacity) {
      this.#buffer.push(value);
      return undefined;
    }
    return new Promise((resolve) => this.#senders.push({ value, resolve }));
  }

  /** Resolves with `{ done: true }` once closed and drained. */
  receive(): Promise<IteratorResult<T>> | IteratorResult<T> {
    if (this.#buffer.length > this.#bufferHead) {
      const value = this.#buffer[this.#bufferHead++]!;
      if (this.#bufferHead > 1024 && this.#bufferHead * 2 > this.#buffer.length) {
        this.#buffer.splice(0, this.#bufferHead);
        this.#bufferHead = 0;
      }
      const sender = this.#senders.shift();
      if (sender !== undefined) {
        this.#buffer.push(sender.value);
        sender.resolve();
      }
      return { value, done: false };
    }
    const sender = this.#senders.shift();
    if (sender !== undefined) {
      sender.resolve();
      return { value: sender.value, done: false };
    }
    if (this.#closed) return { value: undefined, done: true };
    return new Promise((resolve) => this.#receivers.push(resolve));
  }

  close(): void {
    this.#closed = true;
    for (const receiver of this.#receivers.splice(0)) receiver({ value: undefined, done: true });
  }
}
