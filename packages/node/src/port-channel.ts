/**
 * Channels between threads: a send channel at one end of a `MessagePort` pair
 * and a receive channel at the other, with credit-based backpressure.
 *
 * @module
 */

import type { MessagePort, Transferable } from "node:worker_threads";
import { BrokenResourceError, EndOfChannel, type ChannelStatistics, type ReceiveChannel } from "@quartet/core";
import { SinkSendChannel, SourceReceiveChannel, type Sink, type Source } from "./internal/stream-channels.js";
import { describe, requireMethods, requireOptionalFunction, requireOptionalObject } from "./internal/validate.js";
import { WaitQueue } from "./internal/wait-queue.js";
import type { WritableChannel } from "./writable.js";

// ------------------------------------------------------------------- the protocol

/**
 * The messages on the port. Sender → receiver: `[OPEN, bufferSize]` first,
 * then `[DATA, value]`s, and `[END]` when every send handle is closed.
 * Receiver → sender: `[ACK, n]` when it has taken `n` more values, `[CLOSED]`
 * when every receive handle is closed. A port that closes without `[END]` (the
 * other thread went away, or its end was dropped) breaks the channel.
 */
const OPEN = 0;
const DATA = 1;
const END = 2;
const ACK = 3;
const CLOSED = 4;

type SenderMessage = readonly [typeof OPEN, number] | readonly [typeof DATA, unknown] | readonly [typeof END];
type ReceiverMessage = readonly [typeof ACK, number] | readonly [typeof CLOSED];

const DEFAULT_BUFFER_SIZE = 16;

/**
 * Options of {@link sendChannelOverPort}.
 *
 * @example
 * ```ts
 * import { MessageChannel } from "node:worker_threads";
 * import { sendChannelOverPort } from "@quartet/node";
 *
 * const { port1 } = new MessageChannel();
 * // Chunks of bytes, moved rather than copied, at most 8 of them not yet received at the other end.
 * const chunks = sendChannelOverPort<Uint8Array<ArrayBuffer>>(port1, { bufferSize: 8, transfer: (chunk) => [chunk.buffer] });
 * chunks.close();
 * ```
 */
export interface SendChannelOverPortOptions<T> {
  /**
   * How many values may be in flight: sent, and not yet received at the other
   * end. A `send()` beyond that waits until the receiver takes one. An integer
   * of at least 1, or `Infinity`. Default 16.
   */
  bufferSize?: number;
  /** The objects of a value to move to the other thread rather than copy (its `ArrayBuffer`s, ports). Default: none, every value is copied. */
  transfer?: (value: T) => readonly Transferable[];
}

/** A port's wait queue: the port keeps the event loop alive (is referenced) exactly while a task waits on it. */
class PortWaitQueue extends WaitQueue {
  readonly #port: MessagePort;

  constructor(port: MessagePort) {
    super();
    this.#port = port;
  }

  override async park(owner: object | null): Promise<void> {
    this.#port.ref();
    try {
      await super.park(owner);
    } finally {
      if (this.size === 0) this.#port.unref();
    }
  }
}

// ------------------------------------------------------------------- sending

/**
 * A send channel to the other end of a `MessagePort` (a `MessageChannel`'s
 * port, often one handed to a worker with `runInWorker`), where
 * {@link receiveChannelOverPort} receives the values. Values are copied by the
 * structured clone algorithm, or moved (`transfer`).
 *
 * Backpressure is credit-based: at most `bufferSize` values are in flight
 * (sent, not yet received at the other end); a `send()` beyond that waits
 * until the receiver takes one. A `send()` cancelled while it waits sent
 * nothing. Closing the channel (every clone) ends it: the receiver gets the
 * values sent, then `EndOfChannel`. `finish()` (and `await using`) also waits
 * until the receiver has taken every value. When the receiving end is closed,
 * or its thread goes away, `send()` throws `BrokenResourceError`.
 *
 * The channel owns the port: do not use the port otherwise.
 *
 * @example
 * ```ts
 * import { MessageChannel } from "node:worker_threads";
 * import { taskGroup } from "@quartet/core";
 * import { receiveChannelOverPort, sendChannelOverPort } from "@quartet/node";
 *
 * const { port1, port2 } = new MessageChannel(); // usually port2 goes to a worker, in runInWorker's input
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => {
 *     await using numbers = sendChannelOverPort<number>(port1, { bufferSize: 4 });
 *     for (let i = 0; i < 10; i++) await numbers.send(i); // waits while 4 are not yet received
 *   });
 *   using numbers = receiveChannelOverPort<number>(port2);
 *   for await (const n of numbers) console.log(n); // 0 … 9
 * });
 * ```
 */
export function sendChannelOverPort<T>(port: MessagePort, options?: SendChannelOverPortOptions<T>): WritableChannel<T> {
  requireMethods(port, ["postMessage", "on", "close", "ref", "unref"], "sendChannelOverPort() port", "a MessagePort");
  requireOptionalObject(options, "sendChannelOverPort() options");
  const bufferSize = options?.bufferSize ?? DEFAULT_BUFFER_SIZE;
  if (typeof bufferSize !== "number") throw new TypeError(`sendChannelOverPort() bufferSize must be a number; got ${describe(bufferSize)}`);
  if (!(Number.isSafeInteger(bufferSize) || bufferSize === Infinity) || bufferSize < 1) {
    throw new RangeError(`sendChannelOverPort() bufferSize must be an integer of at least 1, or Infinity; got ${bufferSize}`);
  }
  requireOptionalFunction(options?.transfer, "sendChannelOverPort() transfer");
  return new SinkSendChannel<T>(new PortSink<T>(port, bufferSize, options?.transfer), "sendNowait() would block: bufferSize values are in flight");
}

class PortSink<T> implements Sink<T> {
  readonly waiters: PortWaitQueue;
  handles = 1;
  readonly #port: MessagePort;
  readonly #bufferSize: number;
  readonly #transfer: ((value: T) => readonly Transferable[]) | undefined;
  #inFlight = 0;
  #ended = false;
  /** Why nothing more can be sent, once the receiving end is gone. */
  #broken: string | null = null;

  constructor(port: MessagePort, bufferSize: number, transfer: ((value: T) => readonly Transferable[]) | undefined) {
    this.#port = port;
    this.#bufferSize = bufferSize;
    this.#transfer = transfer;
    this.waiters = new PortWaitQueue(port);
    port.on("message", (message: ReceiverMessage) => this.#onMessage(message));
    port.on("close", () => {
      if (!this.#isDone()) this.#broken ??= "the port was closed (the receiving end went away)";
      this.waiters.wakeAll();
    });
    port.unref();
    this.#post([OPEN, bufferSize]);
  }

  #onMessage(message: ReceiverMessage): void {
    if (message[0] === ACK) {
      this.#inFlight -= message[1];
      if (this.#isDone()) this.#port.close();
    } else {
      this.#broken ??= "the receiving end was closed";
      this.#port.close();
    }
    this.waiters.wakeAll();
  }

  #isDone(): boolean {
    return this.#ended && this.#inFlight === 0;
  }

  #post(message: SenderMessage, transfer?: readonly Transferable[]): void {
    this.#port.postMessage(message, transfer as Transferable[] | undefined);
  }

  checkWritable(what: string): void {
    if (this.#broken !== null) throw new BrokenResourceError(`${what}: ${this.#broken}`);
  }

  hasRoom(): boolean {
    return this.#inFlight < this.#bufferSize;
  }

  write(value: T): void {
    this.#post([DATA, value], this.#transfer?.(value));
    this.#inFlight++;
  }

  endStream(): void {
    if (this.#broken !== null || this.#ended) return;
    this.#ended = true;
    this.#post([END]);
    if (this.#isDone()) this.#port.close();
  }

  isFinished(): boolean {
    if (this.#isDone()) return true;
    if (this.#broken !== null) throw new BrokenResourceError(`finish(): ${this.#broken} before it took everything sent`);
    return false;
  }

  abortStream(): void {
    this.#broken ??= "the channel was aborted";
    this.#port.close();
  }

  statistics(): ChannelStatistics {
    return Object.freeze({
      currentBufferUsed: this.#inFlight,
      maxBufferSize: this.#bufferSize,
      openSendChannels: this.handles,
      openReceiveChannels: this.#broken === null ? 1 : 0,
      tasksWaitingSend: this.waiters.size,
      tasksWaitingReceive: 0,
    });
  }
}

// ------------------------------------------------------------------- receiving

/**
 * A receive channel of the values that {@link sendChannelOverPort} sends at
 * the other end of a `MessagePort`: `receive()` returns them in order, then
 * throws `EndOfChannel` (the end of a `for await` loop) once every send handle
 * there is closed. If the sending end goes away without closing (its thread was
 * terminated, or it dropped the port), `receive()` throws `BrokenResourceError`
 * after the values that arrived. Closing the channel (every clone) tells the
 * sender, whose `send()` then throws `BrokenResourceError`.
 *
 * The channel owns the port: do not use the port otherwise.
 *
 * @example
 * ```ts
 * import type { MessagePort } from "node:worker_threads";
 * import { receiveChannelOverPort, sendChannelOverPort } from "@quartet/node";
 *
 * // A worker module (for runInWorker, with both ports in its input and transferList): a pipeline stage.
 * export default async function square({ input, output }: { input: MessagePort; output: MessagePort }): Promise<void> {
 *   using numbers = receiveChannelOverPort<number>(input);
 *   await using squares = sendChannelOverPort<number>(output);
 *   for await (const n of numbers) await squares.send(n * n);
 * }
 * ```
 */
export function receiveChannelOverPort<T>(port: MessagePort): ReceiveChannel<T> {
  requireMethods(port, ["postMessage", "on", "close", "ref", "unref"], "receiveChannelOverPort() port", "a MessagePort");
  return new SourceReceiveChannel<T>(new PortSource<T>(port), "receiveNowait() would block: no value has arrived");
}

class PortSource<T> implements Source<T> {
  readonly waiters: PortWaitQueue;
  handles = 1;
  readonly #port: MessagePort;
  #values: unknown[] = [];
  #head = 0;
  /** Values taken and not yet acknowledged; acknowledged every `#ackEvery`, and whenever the buffer runs empty. */
  #taken = 0;
  #ackEvery = 1;
  #bufferSize = 0;
  #ended = false;
  #broken = false;
  #portClosed = false;

  constructor(port: MessagePort) {
    this.#port = port;
    this.waiters = new PortWaitQueue(port);
    port.on("message", (message: SenderMessage) => this.#onMessage(message));
    port.on("close", () => {
      this.#portClosed = true;
      if (!this.#ended) this.#broken = true;
      this.waiters.wakeAll();
    });
    port.unref();
  }

  #onMessage(message: SenderMessage): void {
    switch (message[0]) {
      case DATA:
        this.#values.push(message[1]);
        this.waiters.wakeFirst();
        return;
      case END:
        this.#ended = true;
        this.waiters.wakeAll();
        return;
      case OPEN:
        this.#bufferSize = message[1];
        this.#ackEvery = Math.max(1, Math.floor(Math.min(message[1], 2 ** 30) / 2));
        return;
    }
  }

  tryTake(what: string): { value: T } | null {
    if (this.#head < this.#values.length) {
      const value = this.#values[this.#head] as T;
      this.#values[this.#head++] = undefined;
      const empty = this.#head === this.#values.length;
      if (empty) {
        this.#values = [];
        this.#head = 0;
      } else {
        this.waiters.wakeFirst(); // more for the next receiver
      }
      if (++this.#taken >= this.#ackEvery || empty) this.#acknowledge();
      return { value };
    }
    if (this.#ended) throw new EndOfChannel(`${what}: the sending end closed the channel`);
    if (this.#broken) throw new BrokenResourceError(`${what}: the sending end went away without closing the channel`);
    return null;
  }

  #acknowledge(): void {
    if (this.#portClosed) return;
    const message: ReceiverMessage = [ACK, this.#taken];
    this.#port.postMessage(message);
    this.#taken = 0;
  }

  closeStream(): void {
    if (this.#portClosed) return;
    const message: ReceiverMessage = [CLOSED];
    this.#port.postMessage(message);
    this.#port.close();
  }

  statistics(): ChannelStatistics {
    return Object.freeze({
      currentBufferUsed: this.#values.length - this.#head,
      maxBufferSize: this.#bufferSize,
      openSendChannels: this.#ended || this.#broken ? 0 : 1,
      openReceiveChannels: this.handles,
      tasksWaitingSend: 0,
      tasksWaitingReceive: this.waiters.size,
    });
  }
}
