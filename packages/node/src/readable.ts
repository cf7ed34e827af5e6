/**
 * Node `Readable` streams and receive channels, both ways: `fromReadable`
 * receives a stream's chunks from a channel, `readableFrom` makes a stream of a
 * channel's values.
 *
 * @module
 */

import { AsyncResource } from "node:async_hooks";
import { Readable } from "node:stream";
import { BrokenResourceError, CancelScope, EndOfChannel, type ChannelStatistics, type ReceiveChannel } from "@quartet/core";
import { SourceReceiveChannel, type Source } from "./internal/stream-channels.js";
import { requireMethods, requireOptionalObject } from "./internal/validate.js";
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
 * `receive()` throw `BrokenResourceError`. Two exceptions, for errors that a
 * cancellation caused: in a cancelled scope, the stream's error is thrown as
 * that scope's `Cancelled` (the cancellation, or what caused it, broke the
 * stream); and a stream destroyed with another scope's `Cancelled` (as
 * `readableFrom`'s stream is) gives a task that is not cancelled a
 * `BrokenResourceError` whose `cause` is that `Cancelled`. Closing the channel
 * (every clone of it) destroys the stream. The channel takes the stream over: do not also read
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
  requireMethods(readable, ["read", "on", "destroy"], "fromReadable() readable", "a Node Readable stream");
  return readableChannel<T>(readable, () => readable.destroy());
}

/** @internal `fromReadable`, with what to do when the last handle is closed (a socket only stops reading). */
export function readableChannel<T>(readable: Readable, onLastClose: () => void): ReceiveChannel<T> {
  return new SourceReceiveChannel<T>(new ReadableSource<T>(readable, onLastClose), "receiveNowait() would block: the stream has no data buffered");
}

/** A Readable as a channel's source. */
class ReadableSource<T> implements Source<T> {
  readonly stream: Readable;
  readonly waiters = new WaitQueue();
  readonly closeStream: () => void;
  handles = 1;

  constructor(stream: Readable, closeStream: () => void) {
    this.stream = stream;
    this.closeStream = closeStream;
    const wakeAll = (): void => this.waiters.wakeAll();
    // A 'readable' listener puts the stream in paused mode: it reads ahead only up to its highWaterMark.
    stream.on("readable", () => this.waiters.wakeFirst());
    stream.on("end", wakeAll);
    stream.on("error", wakeAll); // the error is kept in stream.errored; listening keeps it from crashing the process
    stream.on("close", wakeAll);
  }

  tryTake(what: string): { value: T } | null {
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

// ------------------------------------------------------------------- readableFrom

/**
 * Options of {@link readableFrom}.
 *
 * @example
 * ```ts
 * import { openMemoryChannel, taskGroup } from "@quartet/core";
 * import { readableFrom } from "@quartet/node";
 *
 * const [send, receive] = openMemoryChannel<{ id: number }>();
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => {
 *     using tx = send;
 *     for (let id = 1; id <= 3; id++) await tx.send({ id });
 *   });
 *   const records = readableFrom(receive, { objectMode: true, highWaterMark: 1 }); // objects, one read ahead
 *   for await (const record of records) console.log(record); // { id: 1 }, { id: 2 }, { id: 3 }
 * });
 * ```
 */
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
 * import { openMemoryChannel, taskGroup } from "@quartet/core";
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
  requireMethods(channel, ["receive", "close"], "readableFrom() channel", "a ReceiveChannel");
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
