/**
 * The channel ends that the stream adapters hand out. A stream adapter supplies
 * a *source* (for a receive channel) or a *sink* (for a send channel): the
 * stream's state and how to take from it or give to it without waiting. The
 * classes here turn that into the channel contract — checkpoints, waiting in
 * FIFO order, clones, closing, iteration, disposal — once for every kind of
 * stream.
 *
 * @module
 */

import { ClosedResourceError, EndOfChannel, WouldBlock, checkpoint, isCancelled, type ChannelStatistics, type ReceiveChannel, type SendManyPromise } from "@quartet/core";
import type { WritableChannel } from "../writable.js";
import { streamErrorForCaller } from "./cancellation.js";
import type { WaitQueue } from "./wait-queue.js";

// ------------------------------------------------------------------- receiving

/** A stream to receive from, shared by a channel and its clones. */
export interface Source<T> {
  /** The tasks waiting to receive; the source wakes the first when a value may be ready, all at the end or on failure. */
  readonly waiters: WaitQueue;
  /** Open handles (the channel and its clones). */
  handles: number;
  /** The next value if one is ready; throws `EndOfChannel` at the end or the stream's error; `null` if the caller must wait. */
  tryTake(what: string): { value: T } | null;
  /** Every handle is closed: stop the stream. */
  closeStream(): void;
  statistics(): ChannelStatistics;
}

export class SourceReceiveChannel<T> implements ReceiveChannel<T> {
  readonly #source: Source<T>;
  readonly #emptyMessage: string;
  #closed = false;

  /** `emptyMessage` is the `WouldBlock` message of `receiveNowait()` when nothing is ready. */
  constructor(source: Source<T>, emptyMessage: string) {
    this.#source = source;
    this.#emptyMessage = emptyMessage;
  }

  async receive(): Promise<T> {
    await checkpoint();
    for (;;) {
      this.#checkOpen("receive()");
      const taken = this.#take("receive()");
      if (taken !== null) return taken.value;
      await this.#source.waiters.park(this);
    }
  }

  receiveNowait(): T {
    this.#checkOpen("receiveNowait()");
    const taken = this.#take("receiveNowait()");
    if (taken !== null) return taken.value;
    throw new WouldBlock(this.#emptyMessage);
  }

  async receiveMany(max: number = Infinity): Promise<T[]> {
    if (typeof max !== "number") throw new TypeError(`receiveMany() max must be a number; got ${typeof max}`);
    if (max !== Infinity && !(Number.isInteger(max) && max >= 1)) throw new RangeError(`receiveMany() max must be a positive integer or Infinity; got ${max}`);
    const batch: T[] = [(await this.receive()) as T];
    while (batch.length < max && !this.#closed) {
      const taken = this.#takeOrNull("receiveMany()");
      if (taken === null) break;
      batch.push(taken.value);
    }
    return batch;
  }

  /** Like `#take`, but the end (or the stream's error) after a batch's first value ends the batch instead: the next call sees it. */
  #takeOrNull(what: string): { value: T } | null {
    try {
      return this.#take(what);
    } catch {
      return null;
    }
  }

  /** The source's next value; its errors as the calling task should see them (see `streamErrorForCaller`). */
  #take(what: string): { value: T } | null {
    try {
      return this.#source.tryTake(what);
    } catch (error) {
      if (error instanceof EndOfChannel) throw error;
      throw streamErrorForCaller(error, what);
    }
  }

  clone(): ReceiveChannel<T> {
    this.#checkOpen("clone()");
    this.#source.handles++;
    return new SourceReceiveChannel(this.#source, this.#emptyMessage);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const source = this.#source;
    source.waiters.failOwnedBy(this, () => new ClosedResourceError("the receive channel was closed while receive() was waiting on it"));
    if (--source.handles === 0) source.closeStream();
  }

  statistics(): ChannelStatistics {
    return this.#source.statistics();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: async (): Promise<IteratorResult<T>> => {
        try {
          return { value: await this.receive(), done: false };
        } catch (error) {
          if (error instanceof EndOfChannel) return { value: undefined, done: true };
          throw error;
        }
      },
      // Leaving a `for await` loop early does not close the channel (as with memory channels).
      return: async (): Promise<IteratorResult<T>> => ({ value: undefined, done: true }),
    };
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw new ClosedResourceError(`${what} on a receive channel that was closed`);
  }
}

// ------------------------------------------------------------------- sending

/** A stream to write to, shared by a channel and its clones. */
export interface Sink<T> {
  /** The tasks waiting to send (or to finish); the sink wakes the first when there is room, all when it finishes or fails. */
  readonly waiters: WaitQueue;
  /** Open handles (the channel and its clones). */
  handles: number;
  /** Throws if nothing more can be written: the stream's error, or `BrokenResourceError`. */
  checkWritable(what: string): void;
  /** Whether a value can be written now; if not, a waiter will be woken when it can. */
  hasRoom(): boolean;
  write(value: T): void;
  /** Every handle is closed: end the stream (gracefully). */
  endStream(): void;
  /** Whether the stream has finished writing; throws its error if it failed, `BrokenResourceError` if it was destroyed first. */
  isFinished(): boolean;
  /** `finish()` was cancelled: close the stream forcefully. */
  abortStream(reason: unknown): void;
  statistics(): ChannelStatistics;
}

export class SinkSendChannel<T> implements WritableChannel<T> {
  readonly #sink: Sink<T>;
  readonly #fullMessage: string;
  #closed = false;

  /** `fullMessage` is the `WouldBlock` message of `sendNowait()` when the stream has no room. */
  constructor(sink: Sink<T>, fullMessage: string) {
    this.#sink = sink;
    this.#fullMessage = fullMessage;
  }

  async send(value: T): Promise<void> {
    await checkpoint();
    const sink = this.#sink;
    for (;;) {
      this.#checkOpen("send()");
      this.#checkWritable("send()");
      if (sink.hasRoom()) return this.#write(value);
      await sink.waiters.park(this);
    }
  }

  sendMany(values: Iterable<T>): SendManyPromise {
    const batch = { delivered: 0 };
    const promise = this.#sendMany(values, batch);
    return Object.defineProperty(promise, "delivered", { get: () => batch.delivered, enumerable: true }) as SendManyPromise;
  }

  async #sendMany(values: Iterable<T>, batch: { delivered: number }): Promise<void> {
    if (values === null || typeof (values as Partial<Iterable<T>> | undefined)?.[Symbol.iterator] !== "function") {
      throw new TypeError(`sendMany() values must be an iterable; got ${values === null ? "null" : typeof values}`);
    }
    await checkpoint();
    const sink = this.#sink;
    for (const value of values) {
      for (;;) {
        this.#checkOpen("sendMany()");
        this.#checkWritable("sendMany()");
        if (sink.hasRoom()) break;
        await sink.waiters.park(this);
      }
      this.#write(value);
      batch.delivered++;
    }
  }

  sendNowait(value: T): void {
    this.#checkOpen("sendNowait()");
    this.#checkWritable("sendNowait()");
    if (!this.#sink.hasRoom()) throw new WouldBlock(this.#fullMessage);
    this.#write(value);
  }

  /** The sink's check, with its errors as the calling task should see them (see `streamErrorForCaller`). */
  #checkWritable(what: string): void {
    try {
      this.#sink.checkWritable(what);
    } catch (error) {
      throw streamErrorForCaller(error, what);
    }
  }

  #write(value: T): void {
    const sink = this.#sink;
    sink.write(value);
    if (sink.waiters.size > 0 && sink.hasRoom()) sink.waiters.wakeFirst(); // room left for the next sender
  }

  clone(): WritableChannel<T> {
    this.#checkOpen("clone()");
    this.#sink.handles++;
    return new SinkSendChannel<T>(this.#sink, this.#fullMessage);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const sink = this.#sink;
    sink.waiters.failOwnedBy(this, () => new ClosedResourceError("the send channel was closed while send() was waiting on it"));
    if (--sink.handles === 0) sink.endStream();
  }

  async finish(): Promise<void> {
    this.close();
    const sink = this.#sink;
    try {
      while (!this.#isFinished()) await sink.waiters.park(null);
    } catch (error) {
      if (isCancelled(error)) sink.abortStream(error);
      throw error;
    }
  }

  #isFinished(): boolean {
    try {
      return this.#sink.isFinished();
    } catch (error) {
      throw streamErrorForCaller(error, "finish()");
    }
  }

  statistics(): ChannelStatistics {
    return this.#sink.statistics();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await finishForDisposal(this);
  }

  #checkOpen(what: string): void {
    if (this.#closed) throw new ClosedResourceError(`${what} on a send channel that was closed`);
  }
}

/**
 * `finish()` for `await using`: in a cancelled scope it closes the stream
 * forcefully and returns without throwing `Cancelled`. The cancellation is not
 * lost — it is level-triggered, so the next checkpoint throws it — but a
 * disposer that threw it would, next to a second disposer or the body's own
 * `Cancelled`, make a `SuppressedError`, which task groups take for a failure.
 */
export async function finishForDisposal(channel: { finish(): Promise<void> }): Promise<void> {
  try {
    await channel.finish();
  } catch (error) {
    if (!isCancelled(error)) throw error;
  }
}
