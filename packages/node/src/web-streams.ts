/**
 * WHATWG streams (`ReadableStream`, `WritableStream`: `fetch` bodies, Web APIs)
 * and channels, both ways.
 *
 * @module
 */

import { AsyncResource } from "node:async_hooks";
import { BrokenResourceError, CancelScope, EndOfChannel, type ChannelStatistics, type ReceiveChannel } from "@quartet/core";
import { SinkSendChannel, SourceReceiveChannel, type Sink, type Source } from "./internal/stream-channels.js";
import { requireMethods } from "./internal/validate.js";
import { WaitQueue } from "./internal/wait-queue.js";
import type { WritableChannel } from "./writable.js";

// ------------------------------------------------------------ fromReadableStream

/**
 * A receive channel of the chunks of a WHATWG `ReadableStream` (a `fetch`
 * response body, for example). It takes the stream's reader, and reads one
 * chunk each time a task asks, so the stream's own queue and strategy give the
 * backpressure. A `receive()` cancelled while a read is in flight leaves that
 * read's chunk for the next `receive()`: nothing is lost or read twice.
 *
 * The stream's error is thrown by `receive()` as it is, except where a
 * cancellation caused it (as `fromReadable` says: in a cancelled scope it is
 * the scope's `Cancelled`; another scope's `Cancelled` is, in a task that is not
 * cancelled, a `BrokenResourceError`). Closing the channel (every clone)
 * cancels the stream.
 *
 * @example
 * ```ts
 * import { currentSignal, moveOnAfter } from "@quartet/core";
 * import { fromReadableStream } from "@quartet/node";
 *
 * await moveOnAfter(5000, async () => {
 *   const response = await fetch("https://example.com", { signal: currentSignal() });
 *   using body = fromReadableStream(response.body!);
 *   let bytes = 0;
 *   for await (const chunk of body) bytes += chunk.length;
 *   console.log(`${bytes} bytes`);
 * });
 * ```
 */
export function fromReadableStream<T>(stream: ReadableStream<T>): ReceiveChannel<T> {
  requireMethods(stream, ["getReader"], "fromReadableStream() stream", "a ReadableStream");
  return new SourceReceiveChannel<T>(new StreamSource<T>(stream.getReader()), "receiveNowait() would block: no chunk has been read from the stream yet");
}

/** A ReadableStream's reader, and the one read in flight, as a channel's source. */
class StreamSource<T> implements Source<T> {
  readonly reader: ReadableStreamDefaultReader<T>;
  readonly waiters = new WaitQueue();
  handles = 1;
  #reading = false;
  /** A chunk read but not yet taken by a receiver (its receive was cancelled meanwhile). */
  #ready: { value: T } | null = null;
  #done = false;
  #failure: { error: unknown } | null = null;

  constructor(reader: ReadableStreamDefaultReader<T>) {
    this.reader = reader;
  }

  /** The next chunk if one has been read; throws at the end or after a failure; `null` if the caller must wait. */
  tryTake(what: string): { value: T } | null {
    const ready = this.#ready;
    if (ready !== null) {
      this.#ready = null;
      return ready;
    }
    if (this.#failure !== null) throw this.#failure.error;
    if (this.#done) throw new EndOfChannel(`${what}: the stream has ended`);
    this.#startRead();
    return null;
  }

  closeStream(): void {
    this.reader.cancel().catch(() => {});
  }

  #startRead(): void {
    if (this.#reading) return;
    this.#reading = true;
    this.reader.read().then(
      (result) => {
        this.#reading = false;
        if (result.done) {
          this.#done = true;
          this.waiters.wakeAll();
        } else {
          this.#ready = { value: result.value };
          this.waiters.wakeFirst();
        }
      },
      (error: unknown) => {
        this.#reading = false;
        this.#failure = { error };
        this.waiters.wakeAll();
      },
    );
  }

  statistics(): ChannelStatistics {
    return Object.freeze({
      currentBufferUsed: this.#ready === null ? 0 : 1,
      maxBufferSize: 1,
      openSendChannels: this.#done || this.#failure !== null ? 0 : 1,
      openReceiveChannels: this.handles,
      tasksWaitingSend: 0,
      tasksWaitingReceive: this.waiters.size,
    });
  }
}

// ------------------------------------------------------------ toWritableStream

/**
 * A send channel that writes to a WHATWG `WritableStream`, through the
 * stream's writer. `send(value)` waits while the stream signals backpressure
 * (its `desiredSize` is not positive), then queues the value; cancelled while
 * it waits, it has written nothing. Closing the channel (every clone) closes
 * the stream; `finish()` (or `await using`) also waits until the stream has
 * closed, and aborts it if the wait is cancelled. An error of the stream is
 * thrown by the next `send()` or by `finish()`, as it is — except where a
 * cancellation caused it, as `toWritable` says (so a stream aborted by one
 * task's cancelled `finish()` gives other tasks a `BrokenResourceError`).
 *
 * @example
 * ```ts
 * import { toWritableStream } from "@quartet/node";
 *
 * const received: string[] = [];
 * const sink = new WritableStream<string>({ write: (chunk) => void received.push(chunk) });
 * {
 *   await using out = toWritableStream(sink);
 *   await out.send("hello");
 *   await out.send("world");
 * } // waits until the stream has closed
 * console.log(received); // ["hello", "world"]
 * ```
 */
export function toWritableStream<T>(stream: WritableStream<T>): WritableChannel<T> {
  requireMethods(stream, ["getWriter"], "toWritableStream() stream", "a WritableStream");
  return new SinkSendChannel<T>(new StreamSink<T>(stream.getWriter()), "sendNowait() would block: the stream signals backpressure");
}

/** A WritableStream's writer, and its state, as a channel's sink. */
class StreamSink<T> implements Sink<T> {
  readonly writer: WritableStreamDefaultWriter<T>;
  readonly waiters = new WaitQueue();
  handles = 1;
  closing = false;
  closed = false;
  failure: { error: unknown } | null = null;
  /** The `ready` promise we are watching for the end of backpressure. */
  #watching: Promise<unknown> | null = null;

  constructor(writer: WritableStreamDefaultWriter<T>) {
    this.writer = writer;
    writer.closed.then(
      () => {
        this.closed = true;
        this.waiters.wakeAll();
      },
      (error: unknown) => {
        this.failure = { error };
        this.waiters.wakeAll();
      },
    );
  }

  checkWritable(what: string): void {
    if (this.failure !== null) throw this.failure.error;
    if (this.closing || this.closed) throw new BrokenResourceError(`${what}: the stream is closed`);
  }

  /** Whether the stream accepts a value now; if not, makes sure a waiter is woken when it does. */
  hasRoom(): boolean {
    const desired = this.writer.desiredSize;
    if (desired !== null && desired > 0) return true;
    const ready = this.writer.ready;
    if (ready !== this.#watching) {
      this.#watching = ready;
      ready.then(
        () => this.waiters.wakeFirst(),
        () => this.waiters.wakeAll(),
      );
    }
    return false;
  }

  write(value: T): void {
    // A failed write also fails `writer.closed`, which is where the error is picked up.
    this.writer.write(value).catch(() => {});
  }

  endStream(): void {
    if (this.closing) return;
    this.closing = true;
    this.writer.close().catch(() => {});
  }

  isFinished(): boolean {
    if (this.failure !== null) throw this.failure.error;
    return this.closed;
  }

  abortStream(reason: unknown): void {
    this.writer.abort(reason).catch(() => {});
  }

  statistics(): ChannelStatistics {
    // The stream's queue is its own business: the writer does not show how full it is.
    return Object.freeze({
      currentBufferUsed: 0,
      maxBufferSize: 0,
      openSendChannels: this.handles,
      openReceiveChannels: this.closed || this.failure !== null ? 0 : 1,
      tasksWaitingSend: this.waiters.size,
      tasksWaitingReceive: 0,
    });
  }
}

// ------------------------------------------------------------ readableStreamFrom

/**
 * A WHATWG `ReadableStream` of the values of a receive channel, for APIs that
 * take one (a `fetch` request body, `new Response(stream)`). The stream pulls a
 * value only when its reader asks (its queue holds none ahead), and closes when
 * the channel ends; a channel error errors the stream.
 *
 * Receiving happens in the context where `readableStreamFrom` was called: if
 * that cancel scope is cancelled, the stream errors with the `Cancelled`.
 * Cancelling the stream cancels a receive in progress (which then consumed
 * nothing) and closes the channel.
 *
 * @example
 * ```ts
 * import { openMemoryChannel, taskGroup } from "@quartet/core";
 * import { readableStreamFrom } from "@quartet/node";
 *
 * const [send, receive] = openMemoryChannel<string>();
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => {
 *     using tx = send;
 *     await tx.send("streamed ");
 *     await tx.send("body");
 *   });
 *   const text = await new Response(readableStreamFrom(receive).pipeThrough(new TextEncoderStream())).text();
 *   console.log(text); // "streamed body"
 * });
 * ```
 */
export function readableStreamFrom<T>(channel: ReceiveChannel<T>): ReadableStream<T> {
  requireMethods(channel, ["receive", "close"], "readableStreamFrom() channel", "a ReceiveChannel");
  let receiving: CancelScope | null = null;
  // Bound to the caller's context, so that the receives run in its cancel scope whoever reads.
  const pull = AsyncResource.bind(async (controller: ReadableStreamDefaultController<T>): Promise<void> => {
    const scope = (receiving = new CancelScope());
    try {
      const value = await scope.run(() => channel.receive());
      if (!scope.cancelledCaught) controller.enqueue(value as T);
    } catch (error) {
      if (error instanceof EndOfChannel) controller.close();
      else controller.error(error);
    } finally {
      receiving = null;
    }
  });
  return new ReadableStream<T>(
    {
      pull,
      cancel() {
        receiving?.cancel("the stream was cancelled");
        channel.close();
      },
    },
    { highWaterMark: 0 },
  );
}
