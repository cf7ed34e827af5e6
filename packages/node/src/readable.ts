/**
 * Node `Readable` streams and receive channels, both ways: `fromReadable`
 * receives a stream's chunks from a channel, `readableFrom` makes a stream of a
 * channel's values.
 *
 * @module
 */

import { AsyncResource } from "node:async_hooks";
import { Readable } from "node:stream";
import {
  BrokenResourceError,
  CancelScope,
  ClosedResourceError,
  EndOfChannel,
  WouldBlock,
  checkpoint,
  type ChannelStatistics,
  type ReceiveChannel,
} from "quartet";
import { describe, requireObject, requireOptionalObject } from "./internal/validate.js";
import { WaitQueue } from "./internal/wait-queue.js";

// ------------------------------------------------------------------- fromReadable

/**
 * A receive channel of the chunks of a Node `Readable` (a file, a socket, a
 * child's stdout): `receive()` returns the next chunk, and `EndOfChannel` (the
 * end of a `for await` loop) once the stream has ended.
 *
 * Backpressure is the stream's own: the channel reads from it only when a task
 * asks, so when nobody receives, the stream's buffer fills up to its
 * `highWaterMark` and the stream stops reading from its source (a socket stops
 * reading from the network, so the peer's sends wait). A `receive()` cancelled
 * while it waits has consumed nothing; the next one gets the chunk.
 *
 * An error of the stream is thrown by `receive()` as it is (an `ENOENT` from a
 * file, an `ECONNRESET` from a socket); a stream destroyed before its end makes
 * `receive()` throw `BrokenResourceError`. Closing the channel (every clone of
 * it) destroys the stream. The channel takes the stream over: do not also read
 * it some other way.
 *
 * @example
 * ```ts
 * import { createReadStream } from "node:fs";
 * import { fromReadable } from "@quartet/node";
 *
 * using chunks = fromReadable(createReadStream("/etc/hostname"));
 * for await (const chunk of chunks) console.log(`${chunk.length} bytes`);
 * ```
 */
export function fromReadable<T = Buffer>(readable: Readable): ReceiveChannel<T> {
  requireReadable(readable, "fromReadable() readable");
  return readableChannel<T>(readable, () => readable.destroy());
}

/** @internal `fromReadable`, with what to do when the last handle is closed (a socket only stops reading). */
export function readableChannel<T>(readable: Readable, onLastClose: () => void): ReceiveChannel<T> {
  return new ReadableReceiveChannel<T>(new ReadableSource<T>(readable, onLastClose));
}

function requireReadable(value: unknown, what: string): asserts value is Readable {
  const stream = value as Readable | null;
  if (stream === null || typeof stream !== "object" || typeof stream.read !== "function" || typeof stream.on !== "function") {
    throw new TypeError(`${what} must be a Node Readable stream; got ${describe(value)}`);
  }
}

/** The stream and the tasks waiting for it, shared by a channel and its clones. */
class ReadableSource<T> {
  readonly stream: Readable;
  readonly waiters = new WaitQueue();
  readonly onLastClose: () => void;
  handles = 1;

  constructor(stream: Readable, onLastClose: () => void) {
    this.stream = stream;
    this.onLastClose = onLastClose;
    const wakeAll = (): void => this.waiters.wakeAll();
    // A 'readable' listener puts the stream in paused mode: it reads ahead only up to its highWaterMark.
    stream.on("readable", () => this.waiters.wakeFirst());
    stream.on("end", wakeAll);
    stream.on("error", wakeAll); // the error is kept in stream.errored; listening keeps it from crashing the process
    stream.on("close", wakeAll);
  }

  /** The next chunk if there is one; throws at the end or after a failure; `null` if the caller must wait. */
  tryRead(what: string): { value: T } | null {
    const stream = this.stream;
    if (stream.errored) throw stream.errored;
    const chunk = stream.read() as T | null;
    if (chunk !== null) {
      // In object mode read() takes one value: let the next waiter have the rest.
      if (stream.readableLength > 0) this.waiters.wakeFirst();
      return { value: chunk };
    }
    if (stream.readableEnded) throw new EndOfChannel(`${what}: the stream has ended`);
    if (stream.destroyed) throw new BrokenResourceError(`${what}: the stream was destroyed before it ended`);
    return null;
  }

  statistics(): ChannelStatistics {
    const stream = this.stream;
    return Object.freeze({
      currentBufferUsed: stream.readableLength,
      maxBufferSize: stream.readableHighWaterMark,
      openSendChannels: stream.readableEnded || stream.destroyed ? 0 : 1,
      openReceiveChannels: this.handles,
      tasksWaitingSend: 0,
      tasksWaitingReceive: this.waiters.size,
    });
  }
}

class ReadableReceiveChannel<T> implements ReceiveChannel<T> {
  readonly #source: ReadableSource<T>;
  #closed = false;

  constructor(source: ReadableSource<T>) {
    this.#source = source;
  }

  async receive(): Promise<T> {
    await checkpoint();
    for (;;) {
      this.#checkOpen("receive()");
      const read = this.#source.tryRead("receive()");
      if (read !== null) return read.value;
      await this.#source.waiters.park(this);
    }
  }

  receiveNowait(): T {
    this.#checkOpen("receiveNowait()");
    const read = this.#source.tryRead("receiveNowait()");
    if (read !== null) return read.value;
    throw new WouldBlock("receiveNowait() would block: the stream has no data buffered");
  }

  clone(): ReceiveChannel<T> {
    this.#checkOpen("clone()");
    this.#source.handles++;
    return new ReadableReceiveChannel(this.#source);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const source = this.#source;
    source.waiters.failOwnedBy(this, () => new ClosedResourceError("the receive channel was closed while receive() was waiting on it"));
    if (--source.handles === 0) source.onLastClose();
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

// ------------------------------------------------------------------- readableFrom

/** Options of {@link readableFrom}. */
export interface ReadableFromOptions {
  /** Whether the stream carries arbitrary values rather than bytes and strings. Default `false`. */
  objectMode?: boolean;
  /** How much the stream may read ahead of its consumer (bytes, or values in object mode). Default: Node's. */
  highWaterMark?: number;
}

/**
 * A Node `Readable` of the values of a receive channel, for APIs that take a
 * stream (`pipeline()`, `zlib`, an HTTP response). The stream receives from the
 * channel only when its consumer wants more, and ends when the channel ends.
 *
 * Receiving happens in the context where `readableFrom` was called: if that
 * cancel scope is cancelled, the stream is destroyed with the `Cancelled`.
 * Destroying the stream cancels a receive in progress (which then consumed
 * nothing) and closes the channel. A channel error destroys the stream with it.
 *
 * @example
 * ```ts
 * import { createWriteStream } from "node:fs";
 * import { pipeline } from "node:stream/promises";
 * import { openMemoryChannel, taskGroup } from "quartet";
 * import { readableFrom } from "@quartet/node";
 *
 * const [send, receive] = openMemoryChannel<string>();
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => {
 *     using tx = send;
 *     for (const line of ["one\n", "two\n"]) await tx.send(line);
 *   });
 *   await pipeline(readableFrom(receive), createWriteStream("/tmp/lines.txt"));
 * });
 * ```
 */
export function readableFrom<T>(channel: ReceiveChannel<T>, options?: ReadableFromOptions): Readable {
  requireObject(channel, "readableFrom() channel");
  if (typeof channel.receive !== "function" || typeof channel.close !== "function") {
    throw new TypeError(`readableFrom() channel must be a ReceiveChannel; got ${describe(channel)}`);
  }
  requireOptionalObject(options, "readableFrom() options");
  let receiving: CancelScope | null = null;
  // Bound to the caller's context, so that the receives run in its cancel scope whoever asks for data.
  const pull = AsyncResource.bind(async (stream: Readable): Promise<void> => {
    const scope = (receiving = new CancelScope());
    try {
      const value = await scope.run(() => channel.receive());
      if (scope.cancelledCaught) return;
      if (value === null) stream.destroy(new TypeError("readableFrom(): the channel sent null, which a Node stream cannot carry (null ends a stream)"));
      else stream.push(value);
    } catch (error) {
      if (error instanceof EndOfChannel) stream.push(null);
      else stream.destroy(error as Error);
    } finally {
      receiving = null;
    }
  });
  return new Readable({
    objectMode: options?.objectMode ?? false,
    ...(options?.highWaterMark === undefined ? {} : { highWaterMark: options.highWaterMark }),
    read() {
      void pull(this);
    },
    destroy(error, callback) {
      receiving?.cancel("the stream was destroyed");
      channel.close();
      callback(error);
    },
  });
}
