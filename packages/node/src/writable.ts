/**
 * Send channels that write to Node `Writable` streams.
 *
 * @module
 */

import type { Writable } from "node:stream";
import { BrokenResourceError, type ChannelStatistics, type SendChannel } from "@quartet/core";
import { SinkSendChannel, type Sink } from "./internal/stream-channels.js";
import { requireMethods } from "./internal/validate.js";
import { WaitQueue } from "./internal/wait-queue.js";

/**
 * A send channel that writes to a stream. Besides `close()`, which ends the
 * stream and returns at once, it has `finish()`, which ends the stream and
 * waits until everything sent has been written — and throws if writing failed.
 * `await using` calls `finish()` (except that in a cancelled scope it closes the
 * stream forcefully without throwing `Cancelled`, which the next checkpoint
 * throws); `using` calls `close()`.
 *
 * @example
 * ```ts
 * import { createWriteStream } from "node:fs";
 * import { toWritable, type WritableChannel } from "@quartet/node";
 *
 * async function writeReport(out: WritableChannel<string>): Promise<void> {
 *   await out.send("title\n");
 *   await out.send("body\n");
 *   await out.finish(); // ends the file, waits until it is written, throws if writing failed
 * }
 * await writeReport(toWritable<string>(createWriteStream("/tmp/report.txt")));
 * ```
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
 * the stream was destroyed, `send()` throws `BrokenResourceError`. Errors that a
 * cancellation caused are the exception: in a cancelled scope, the stream's
 * error (a peer reset, an `EPIPE` from a child that was killed) is thrown as
 * that scope's `Cancelled`; and a stream destroyed with another scope's
 * `Cancelled` gives a task that is not cancelled a `BrokenResourceError` whose
 * `cause` is that `Cancelled`.
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
  requireMethods(writable, ["write", "end", "on", "destroy"], "toWritable() writable", "a Node Writable stream");
  return new SinkSendChannel<T>(new WritableSink<T>(writable), "sendNowait() would block: the stream's buffer is full until it drains");
}

/** A Writable as a channel's sink. */
class WritableSink<T> implements Sink<T> {
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

  checkWritable(what: string): void {
    const stream = this.stream;
    if (stream.errored) throw stream.errored;
    if (stream.destroyed) throw new BrokenResourceError(`${what}: the stream was destroyed`);
    if (stream.writableEnded) throw new BrokenResourceError(`${what}: the stream was ended by someone else`);
  }

  hasRoom(): boolean {
    return !this.stream.writableNeedDrain; // 'drain' wakes a waiter
  }

  write(value: T): void {
    // The stream reports write errors through 'error' (kept in stream.errored), so no callback is needed.
    this.stream.write(value);
  }

  endStream(): void {
    if (!this.stream.writableEnded && !this.stream.destroyed) this.stream.end();
  }

  isFinished(): boolean {
    const stream = this.stream;
    if (stream.errored) throw stream.errored;
    if (stream.writableFinished) return true;
    if (stream.destroyed) throw new BrokenResourceError("finish(): the stream was destroyed before everything was written");
    return false;
  }

  abortStream(): void {
    this.stream.destroy();
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
