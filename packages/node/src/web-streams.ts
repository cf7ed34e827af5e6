/**
 * WHATWG streams (`ReadableStream`, `WritableStream`: `fetch` bodies, Web APIs)
 * and channels, both ways.
 *
 * @module
 */

import { AsyncResource } from "node:async_hooks";
import {
  BrokenResourceError,
  CancelScope,
  ClosedResourceError,
  EndOfChannel,
  WouldBlock,
  checkpoint,
  isCancelled,
  type ChannelStatistics,
  type ReceiveChannel,
} from "quartet";
import { describe, requireObject } from "./internal/validate.js";
import { WaitQueue } from "./internal/wait-queue.js";
import { finishForDisposal, type WritableChannel } from "./writable.js";

// ------------------------------------------------------------ fromReadableStream

/**
 * A receive channel of the chunks of a WHATWG `ReadableStream` (a `fetch`
 * response body, for example). It takes the stream's reader, and reads one
 * chunk each time a task asks, so the stream's own queue and strategy give the
 * backpressure. A `receive()` cancelled while a read is in flight leaves that
 * read's chunk for the next `receive()`: nothing is lost or read twice.
 *
 * The stream's error is thrown by `receive()` as it is. Closing the channel
 * (every clone) cancels the stream.
 *
 * @example
 * ```ts
 * import { currentSignal, moveOnAfter } from "quartet";
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
  const candidate = stream as ReadableStream<T> | null;
  if (candidate === null || typeof candidate !== "object" || typeof candidate.getReader !== "function") {
    throw new TypeError(`fromReadableStream() stream must be a ReadableStream; got ${describe(stream)}`);
  }
  return new StreamReceiveChannel<T>(new StreamSource<T>(stream.getReader()));
}

/** The reader and the one read in flight, shared by a channel and its clones. */
class StreamSource<T> {
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

class StreamReceiveChannel<T> implements ReceiveChannel<T> {
  readonly #source: StreamSource<T>;
  #closed = false;

  constructor(source: StreamSource<T>) {
    this.#source = source;
  }

  async receive(): Promise<T> {
    await checkpoint();
    for (;;) {
      this.#checkOpen("receive()");
      const taken = this.#source.tryTake("receive()");
      if (taken !== null) return taken.value;
      await this.#source.waiters.park(this);
    }
  }

  receiveNowait(): T {
    this.#checkOpen("receiveNowait()");
    const taken = this.#source.tryTake("receiveNowait()");
    if (taken !== null) return taken.value;
    throw new WouldBlock("receiveNowait() would block: no chunk has been read from the stream yet");
  }

  clone(): ReceiveChannel<T> {
    this.#checkOpen("clone()");
    this.#source.handles++;
    return new StreamReceiveChannel(this.#source);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const source = this.#source;
    source.waiters.failOwnedBy(this, () => new ClosedResourceError("the receive channel was closed while receive() was waiting on it"));
    if (--source.handles === 0) source.reader.cancel().catch(() => {});
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

// ------------------------------------------------------------ toWritableStream

/**
 * A send channel that writes to a WHATWG `WritableStream`, through the
 * stream's writer. `send(value)` waits while the stream signals backpressure
 * (its `desiredSize` is not positive), then queues the value; cancelled while
 * it waits, it has written nothing. Closing the channel (every clone) closes
 * the stream; `finish()` (or `await using`) also waits until the stream has
 * closed, and aborts it if the wait is cancelled. An error of the stream is
 * thrown by the next `send()` or by `finish()`, as it is.
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
  const candidate = stream as WritableStream<T> | null;
  if (candidate === null || typeof candidate !== "object" || typeof candidate.getWriter !== "function") {
    throw new TypeError(`toWritableStream() stream must be a WritableStream; got ${describe(stream)}`);
  }
  return new StreamSendChannel<T>(new StreamSink<T>(stream.getWriter()));
}

/** The writer and its state, shared by a channel and its clones. */
class StreamSink<T> {
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
    if (this.waiters.size > 0 && this.hasRoom()) this.waiters.wakeFirst();
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.writer.close().catch(() => {});
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

class StreamSendChannel<T> implements WritableChannel<T> {
  readonly #sink: StreamSink<T>;
  #closed = false;

  constructor(sink: StreamSink<T>) {
    this.#sink = sink;
  }

  async send(value: T): Promise<void> {
    await checkpoint();
    const sink = this.#sink;
    for (;;) {
      this.#checkOpen("send()");
      sink.checkWritable("send()");
      if (sink.hasRoom()) return sink.write(value);
      await sink.waiters.park(this);
    }
  }

  sendNowait(value: T): void {
    this.#checkOpen("sendNowait()");
    this.#sink.checkWritable("sendNowait()");
    if (!this.#sink.hasRoom()) throw new WouldBlock("sendNowait() would block: the stream signals backpressure");
    this.#sink.write(value);
  }

  clone(): WritableChannel<T> {
    this.#checkOpen("clone()");
    this.#sink.handles++;
    return new StreamSendChannel<T>(this.#sink);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const sink = this.#sink;
    sink.waiters.failOwnedBy(this, () => new ClosedResourceError("the send channel was closed while send() was waiting on it"));
    if (--sink.handles === 0) sink.close();
  }

  async finish(): Promise<void> {
    this.close();
    const sink = this.#sink;
    try {
      for (;;) {
        if (sink.failure !== null) throw sink.failure.error;
        if (sink.closed) return;
        await sink.waiters.park(null);
      }
    } catch (error) {
      if (isCancelled(error)) sink.writer.abort(error).catch(() => {});
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
 * import { openMemoryChannel, taskGroup } from "quartet";
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
  requireObject(channel, "readableStreamFrom() channel");
  if (typeof channel.receive !== "function" || typeof channel.close !== "function") {
    throw new TypeError(`readableStreamFrom() channel must be a ReceiveChannel; got ${describe(channel)}`);
  }
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
