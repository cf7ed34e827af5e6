/**
 * Send channels that write to Node `Writable` streams.
 *
 * @module
 */

import type { Writable } from "node:stream";
import { BrokenResourceError, ClosedResourceError, WouldBlock, checkpoint, isCancelled, type ChannelStatistics, type SendChannel } from "quartet";
import { describe } from "./internal/validate.js";
import { WaitQueue } from "./internal/wait-queue.js";

/**
 * A send channel that writes to a stream. Besides `close()`, which ends the
 * stream and returns at once, it has `finish()`, which ends the stream and
 * waits until everything sent has been written — and throws if writing failed.
 * `await using` calls `finish()`; `using` calls `close()`.
 */
export interface WritableChannel<T> extends SendChannel<T> {
  /**
   * Closes this handle, then waits until the stream has finished: every handle
   * is closed and every value sent has been written (Node's `'finish'`). Throws
   * the stream's error if writing failed, and `BrokenResourceError` if the
   * stream was destroyed before it finished. A checkpoint: if the calling scope
   * is cancelled before the stream has finished, or while it waits, the stream
   * is destroyed (what was not yet written is dropped) and `Cancelled` is
   * thrown — as trio's `aclose()` closes forcefully when cancelled.
   */
  finish(): Promise<void>;
  /** Another handle on the same stream; the stream ends when every handle is closed. */
  clone(): WritableChannel<T>;
}

/**
 * A send channel that writes to a Node `Writable` (a file, a socket, a child's
 * stdin, an HTTP response).
 *
 * `send(value)` writes the value and returns, unless the stream's buffer is
 * above its `highWaterMark` (`write()` returned `false`): then it waits for
 * `'drain'` first. That is backpressure: a fast sender slows to the speed of
 * the disk or the network. A `send()` cancelled while it waits has written
 * nothing. Closing the channel (every clone) ends the stream; `finish()` (or
 * `await using`) also waits until everything was written and reports a write
 * error. An error of the stream is thrown by the next `send()` as it is; after
 * the stream was destroyed, `send()` throws `BrokenResourceError`.
 *
 * Errors that happen after a plain `close()` reach nobody: use `finish()` when
 * you need to know that the data arrived.
 *
 * @example
 * ```ts
 * import { createWriteStream } from "node:fs";
 * import { toWritable } from "@quartet/node";
 *
 * await using out = toWritable<string>(createWriteStream("/tmp/numbers.txt"));
 * for (let i = 0; i < 1000; i++) await out.send(`${i}\n`); // waits whenever the disk falls behind
 * // leaving the block waits until the file is fully written
 * ```
 */
export function toWritable<T = Uint8Array | string>(writable: Writable): WritableChannel<T> {
  const stream = writable as Writable | null;
  if (stream === null || typeof stream !== "object" || typeof stream.write !== "function" || typeof stream.end !== "function") {
    throw new TypeError(`toWritable() writable must be a Node Writable stream; got ${describe(writable)}`);
  }
  return new WritableSendChannel<T>(new WritableSink(writable));
}

/** The stream and the tasks waiting for it, shared by a channel and its clones. */
class WritableSink {
  readonly stream: Writable;
  readonly waiters = new WaitQueue();
  handles = 1;

  constructor(stream: Writable) {
    this.stream = stream;
    const wakeAll = (): void => this.waiters.wakeAll();
    stream.on("drain", () => this.waiters.wakeFirst());
    stream.on("finish", wakeAll);
    stream.on("error", wakeAll); // kept in stream.errored; listening keeps it from crashing the process
    stream.on("close", wakeAll);
  }

  /** Throws if nothing more can be written: the stream's error, or BrokenResourceError. */
  checkWritable(what: string): void {
    const stream = this.stream;
    if (stream.errored) throw stream.errored;
    if (stream.destroyed) throw new BrokenResourceError(`${what}: the stream was destroyed`);
    if (stream.writableEnded) throw new BrokenResourceError(`${what}: the stream was ended by someone else`);
  }

  statistics(): ChannelStatistics {
    const stream = this.stream;
    return Object.freeze({
      currentBufferUsed: stream.writableLength,
      maxBufferSize: stream.writableHighWaterMark,
      openSendChannels: this.handles,
      openReceiveChannels: stream.destroyed ? 0 : 1,
      tasksWaitingSend: this.waiters.size,
      tasksWaitingReceive: 0,
    });
  }
}

class WritableSendChannel<T> implements WritableChannel<T> {
  readonly #sink: WritableSink;
  #closed = false;

  constructor(sink: WritableSink) {
    this.#sink = sink;
  }

  async send(value: T): Promise<void> {
    await checkpoint();
    const sink = this.#sink;
    for (;;) {
      this.#checkOpen("send()");
      sink.checkWritable("send()");
      if (!sink.stream.writableNeedDrain) return this.#write(value);
      await sink.waiters.park(this);
    }
  }

  sendNowait(value: T): void {
    this.#checkOpen("sendNowait()");
    this.#sink.checkWritable("sendNowait()");
    if (this.#sink.stream.writableNeedDrain) {
      throw new WouldBlock("sendNowait() would block: the stream's buffer is full until it drains");
    }
    this.#write(value);
  }

  #write(value: T): void {
    const sink = this.#sink;
    // The stream reports write errors through 'error' (kept in stream.errored), so no callback is needed.
    if (sink.stream.write(value) && sink.waiters.size > 0) sink.waiters.wakeFirst();
  }

  clone(): WritableChannel<T> {
    this.#checkOpen("clone()");
    this.#sink.handles++;
    return new WritableSendChannel<T>(this.#sink);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const sink = this.#sink;
    sink.waiters.failOwnedBy(this, () => new ClosedResourceError("the send channel was closed while send() was waiting on it"));
    if (--sink.handles === 0 && !sink.stream.writableEnded && !sink.stream.destroyed) sink.stream.end();
  }

  async finish(): Promise<void> {
    this.close();
    const sink = this.#sink;
    const stream = sink.stream;
    try {
      for (;;) {
        if (stream.errored) throw stream.errored;
        if (stream.writableFinished) return;
        if (stream.destroyed) throw new BrokenResourceError("finish(): the stream was destroyed before everything was written");
        await sink.waiters.park(null);
      }
    } catch (error) {
      if (isCancelled(error)) stream.destroy();
      throw error;
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
 * @internal `finish()` for `await using`: in a cancelled scope it closes the
 * stream forcefully and returns without throwing `Cancelled`. The cancellation
 * is not lost — it is level-triggered, so the next checkpoint throws it — but a
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
