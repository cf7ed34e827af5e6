/**
 * Memory channels: trio's `open_memory_channel`, with separate send and
 * receive ends and real backpressure.
 *
 * @module
 */

import { current, type Context } from "./core/context.js";
import { Deque } from "./core/deque.js";
import { BrokenResourceError, ClosedResourceError, EndOfChannel, WouldBlock } from "./core/errors.js";
import { ParkingLot } from "./core/parking-lot.js";
import type { Waiter } from "./core/park.js";
import { RESOLVED } from "./core/runtime.js";
import { describe, requireOptionalName, requireOptionalObject, type NameOptions } from "./core/validate.js";

/**
 * @internal Marks a receive end whose async iterator may be asked for its next
 * value while an earlier `next()` is still pending (its waiters queue in FIFO
 * order): `map()` and `forEach()` then let their workers wait on it together,
 * instead of taking turns behind a lock.
 */
export const CONCURRENT_NEXT = Symbol("quartet.concurrentNext");

// ------------------------------------------------------------------- public types

/**
 * What `statistics()` of either end of a channel reports (trio's fields, in camelCase).
 *
 * @example
 * ```ts
 * import { openMemoryChannel } from "@quartet/core";
 *
 * const [send, receive] = openMemoryChannel<string>(10);
 * send.sendNowait("a");
 * send.sendNowait("b");
 * const { currentBufferUsed, maxBufferSize } = receive.statistics(); // either end reports the same
 * console.log(currentBufferUsed, maxBufferSize); // 2 10
 * ```
 */
export interface ChannelStatistics {
  /** Values in the buffer now. */
  readonly currentBufferUsed: number;
  /** The buffer's capacity: 0, a positive integer, or `Infinity`. */
  readonly maxBufferSize: number;
  /** Send ends (the original and its clones) not yet closed. */
  readonly openSendChannels: number;
  /** Receive ends not yet closed. */
  readonly openReceiveChannels: number;
  /** Tasks blocked in `send()`. */
  readonly tasksWaitingSend: number;
  /** Tasks blocked in `receive()`. */
  readonly tasksWaitingReceive: number;
}

/**
 * What `SendChannel.sendMany()` returns: a promise that settles when every
 * value has been sent (or with the error that stopped it), with a live count
 * of the values sent so far.
 *
 * @example
 * ```ts
 * import { failAfter, openMemoryChannel, TimeoutError, type SendManyPromise } from "@quartet/core";
 *
 * const [send] = openMemoryChannel<string>(1);
 * const lines = ["a", "b", "c"];
 * let sending: SendManyPromise | undefined;
 * try {
 *   await failAfter(100, () => (sending = send.sendMany(lines))); // nobody receives
 * } catch (error) {
 *   if (!(error instanceof TimeoutError)) throw error;
 *   console.log(`sent ${sending!.delivered}; not sent:`, lines.slice(sending!.delivered)); // sent 1; not sent: ["b", "c"]
 * }
 * ```
 */
export interface SendManyPromise extends Promise<void> {
  /** How many of the values have been sent (handed to a receiver or buffered) so far. */
  readonly delivered: number;
}

/**
 * The sending end of a channel. Close it (or dispose of it) when done sending:
 * once every send end is closed, receivers get the buffered values and then
 * `EndOfChannel`.
 *
 * @example
 * ```ts
 * import { openMemoryChannel, taskGroup, type SendChannel } from "@quartet/core";
 *
 * async function countTo(n: number, out: SendChannel<number>): Promise<void> {
 *   using tx = out; // closing it tells the receiver that no more values come
 *   for (let i = 1; i <= n; i++) await tx.send(i);
 * }
 * const [send, receive] = openMemoryChannel<number>();
 * await taskGroup(async (tg) => {
 *   tg.spawn(() => countTo(3, send));
 *   for await (const n of receive) console.log(n); // 1, 2, 3
 * });
 * ```
 */
export interface SendChannel<T> extends Disposable, AsyncDisposable {
  /**
   * Sends `value`, waiting while the buffer is full and nobody is waiting to
   * receive (backpressure). A checkpoint; cancellation while it waits means the
   * value was not sent. Throws `ClosedResourceError` if this end was closed
   * (also while waiting) and `BrokenResourceError` if every receive end is
   * closed (nobody will ever receive the value).
   */
  send(value: T): Promise<void>;
  /** Sends `value` if that can be done without waiting; else throws `WouldBlock`. */
  sendNowait(value: T): void;
  /**
   * Sends every value of `values`, in order, as consecutive `send()`s would:
   * each waits while the buffer is full (backpressure), and the iterable is read
   * one value at a time, only as values go out. One checkpoint, at the start
   * (so a batch that never has to wait costs one scheduling turn, not one per
   * value). The returned promise's `delivered` counts the values sent so far,
   * so after a cancellation or an error the caller knows how many went out
   * (the values after them did not). Errors as `send()`'s, and whatever the
   * iterable throws.
   *
   * @example
   * ```ts
   * import { moveOnAfter, openMemoryChannel, type SendManyPromise } from "@quartet/core";
   *
   * const [send, receive] = openMemoryChannel<number>(2);
   * let sending: SendManyPromise | undefined;
   * await moveOnAfter(10, () => (sending = send.sendMany([1, 2, 3, 4]))); // nobody receives: two fit in the buffer
   * console.log(sending!.delivered); // 2
   * console.log(await receive.receiveMany(10)); // [1, 2]
   * ```
   */
  sendMany(values: Iterable<T>): SendManyPromise;
  /** Another send end of the same channel; the channel ends only when every send end is closed. */
  clone(): SendChannel<T>;
  /** Closes this end. Tasks waiting in `send()` on it get `ClosedResourceError`. Idempotent. */
  close(): void;
  /** The channel's statistics. */
  statistics(): ChannelStatistics;
}

/**
 * The receiving end of a channel. Iterate it with `for await`, which ends when
 * every send end is closed and the buffer is drained. Leaving the loop early
 * does not close it.
 *
 * @example
 * ```ts
 * import { openMemoryChannel, taskGroup, type ReceiveChannel } from "@quartet/core";
 *
 * async function worker(jobs: ReceiveChannel<string>): Promise<void> {
 *   for await (const job of jobs) console.log("doing", job);
 * }
 * const [send, receive] = openMemoryChannel<string>();
 * await taskGroup(async (tg) => {
 *   tg.spawn(() => worker(receive));
 *   tg.spawn(() => worker(receive.clone())); // two workers share the jobs
 *   using tx = send; // closed when the body ends: then both loops end
 *   for (const job of ["a", "b", "c"]) await tx.send(job);
 * });
 * ```
 */
export interface ReceiveChannel<T> extends AsyncIterable<T>, Disposable, AsyncDisposable {
  /**
   * Receives the next value, waiting until there is one. A checkpoint;
   * cancellation while it waits means nothing was consumed. Throws
   * `EndOfChannel` once every send end is closed and the buffer is empty, and
   * `ClosedResourceError` if this end was closed (also while waiting).
   */
  receive(): Promise<T>;
  /** Receives a value if one is ready; else throws `WouldBlock` (or `EndOfChannel`). */
  receiveNowait(): T;
  /**
   * Receives a batch: waits like `receive()` for the first value, then also
   * takes whatever else is ready right now (buffered, or offered by waiting
   * senders), up to `max` values in all. A checkpoint; cancellation while it
   * waits means nothing was consumed. Ends like `receive()`: `EndOfChannel`
   * once every send end is closed and the buffer is empty. `max` is a
   * positive integer or `Infinity` (the default: whatever is ready).
   *
   * @example
   * ```ts
   * import { openMemoryChannel } from "@quartet/core";
   *
   * const [send, receive] = openMemoryChannel<string>(100);
   * for (const line of ["a", "b", "c"]) send.sendNowait(line);
   * console.log(await receive.receiveMany(2)); // ["a", "b"]
   * console.log(await receive.receiveMany(2)); // ["c"]
   * ```
   */
  receiveMany(max?: number): Promise<T[]>;
  /** Another receive end of the same channel; receivers share the values, each value goes to one of them. */
  clone(): ReceiveChannel<T>;
  /** Closes this end. When every receive end is closed, senders get `BrokenResourceError` and buffered values are dropped. Idempotent. */
  close(): void;
  /** The channel's statistics. */
  statistics(): ChannelStatistics;
}

/**
 * Opens a channel for passing values between tasks, and returns its two ends.
 *
 * `maxBufferSize` is how many values may wait in the channel: 0 (the default)
 * makes every `send()` wait until a receiver takes the value (a rendezvous);
 * N lets senders run up to N values ahead; `Infinity` never blocks senders.
 * Waiting senders and receivers are served in FIFO order.
 *
 * @example
 * ```ts
 * import { openMemoryChannel, taskGroup } from "@quartet/core";
 *
 * const [send, receive] = openMemoryChannel<number>(10);
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => {
 *     using tx = send; // closing the send end ends the consumer's loop
 *     for (let i = 0; i < 3; i++) await tx.send(i);
 *   });
 *   tg.spawn(async () => {
 *     for await (const value of receive) console.log(value); // 0, 1, 2
 *   });
 * });
 * ```
 */
export function openMemoryChannel<T>(maxBufferSize = 0, options?: NameOptions): [SendChannel<T>, ReceiveChannel<T>] {
  if (typeof maxBufferSize !== "number") {
    throw new TypeError(`openMemoryChannel() maxBufferSize must be a number; got ${describe(maxBufferSize)}`);
  }
  if (maxBufferSize !== Infinity && !(Number.isInteger(maxBufferSize) && maxBufferSize >= 0)) {
    throw new RangeError(`openMemoryChannel() maxBufferSize must be 0, a positive integer or Infinity; got ${maxBufferSize}`);
  }
  requireOptionalObject(options, "openMemoryChannel() options");
  requireOptionalName(options?.name, "openMemoryChannel() name");
  const state = new ChannelState<T>(maxBufferSize, options?.name);
  return [new MemorySendChannel(state), new MemoryReceiveChannel(state)];
}

// ------------------------------------------------------------- shared state

/**
 * @internal The modes of a receive end's one receive operation (memory
 * channels and broadcast subscriptions): `undefined` for `receive()`;
 * ITERATING for the iterator's `next()`, whose receiver is woken with an
 * IteratorResult, and with `DONE` at the end; MANY for `receiveMany()`.
 */
export const ITERATING = Symbol("iterating");
/** @internal See {@link ITERATING}. */
export const MANY = Symbol("many");
/** @internal The IteratorResult of a receive end that has ended. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

/**
 * One channel. Invariants: senders wait only while the buffer is full and no
 * receiver waits; receivers wait only while the buffer is empty and no sender
 * waits — so at most one of the two lots is non-empty. A waiting sender's value
 * is its waiter's `value`; a receiver is woken with its value (or, if it parked
 * from async iteration, with an IteratorResult).
 */
class ChannelState<T> {
  readonly maxBufferSize: number;
  readonly buffer = new Deque<T>();
  readonly sendLot: ParkingLot<void>;
  readonly receiveLot: ParkingLot<unknown>;
  openSendChannels = 1;
  openReceiveChannels = 1;
  /** Tasks waiting for a receiver to wait (see `whenReceiverWaits`); made on first use. */
  receiverWatchers: ParkingLot<void> | null = null;
  /** The error the channel ended with (see `closeWithFailure`), until a receiver has been given it (for ever if `sticky`). */
  failure: { error: unknown; sticky: boolean } | null = null;

  constructor(maxBufferSize: number, name: string | undefined) {
    this.maxBufferSize = maxBufferSize;
    this.sendLot = new ParkingLot({ operation: "send", object: "channel", name });
    this.receiveLot = new ParkingLot({ operation: "receive", object: "channel", name });
  }

  statistics(): ChannelStatistics {
    return Object.freeze({
      currentBufferUsed: this.buffer.size,
      maxBufferSize: this.maxBufferSize,
      openSendChannels: this.openSendChannels,
      openReceiveChannels: this.openReceiveChannels,
      tasksWaitingSend: this.sendLot.size,
      tasksWaitingReceive: this.receiveLot.size,
    });
  }

  /** Hands `value` to a waiting receiver or the buffer; false if it would have to wait. */
  trySend(value: T): boolean {
    const receiver = this.receiveLot.shift();
    if (receiver !== null) {
      receiver.wake(receiver.value === ITERATING ? { value, done: false } : value);
      return true;
    }
    if (this.buffer.size < this.maxBufferSize) {
      this.buffer.push(value);
      return true;
    }
    return false;
  }

  /** Whether a value can be received without waiting. */
  get ready(): boolean {
    return this.buffer.size > 0 || this.sendLot.size > 0;
  }

  /** Takes the next value (only when `ready`): from the buffer, refilling it from a waiting sender, or from a waiting sender. */
  take(): T {
    if (this.buffer.size > 0) {
      const value = this.buffer.shift() as T;
      const sender = this.sendLot.shift();
      if (sender !== null) {
        this.buffer.push(sender.value as T);
        sender.wake();
      }
      return value;
    }
    const sender = this.sendLot.shift()!;
    const value = sender.value as T;
    sender.wake();
    return value;
  }

  /** The last send end closed: every waiting receiver learns that the channel has ended (the first, of its failure). */
  endReceivers(): void {
    for (let receiver = this.receiveLot.shift(); receiver !== null; receiver = this.receiveLot.shift()) {
      const failure = this.takeFailure();
      if (failure !== null) receiver.fail(failure.error);
      else if (receiver.value === ITERATING) receiver.wake(DONE);
      else receiver.fail(new EndOfChannel("every send channel was closed while receive() was waiting"));
    }
  }

  /** The failure the channel ended with, once: the next receiver after it sees a plain end. */
  takeFailure(): { error: unknown } | null {
    const failure = this.failure;
    if (failure !== null && !failure.sticky) this.failure = null;
    return failure;
  }

  /** Fails the tasks of `lot` that wait on the end `owner` (which is being closed). */
  failWaitersOf(lot: ParkingLot<any>, owner: object, error: () => Error): void {
    for (const waiter of lot) {
      if (waiter.owner !== owner) continue;
      lot.remove(waiter);
      waiter.fail(error());
    }
  }
}

// ------------------------------------------------------------------- ends

/** What both ends share: the closed flag, disposal, statistics. */
abstract class ChannelEnd<T> implements Disposable, AsyncDisposable {
  protected readonly state: ChannelState<T>;
  protected closed = false;

  constructor(state: ChannelState<T>) {
    this.state = state;
  }

  abstract close(): void;

  statistics(): ChannelStatistics {
    return this.state.statistics();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return RESOLVED;
  }
}

// The operations below are plain functions returning promises rather than async functions:
// the fast paths (a value handed over or buffered without waiting) then cost no promise of
// their own, which is most of the cost of a channel operation. Errors are returned as
// rejected promises, never thrown synchronously.

class MemorySendChannel<T> extends ChannelEnd<T> implements SendChannel<T> {
  send(value: T): Promise<void> {
    const context = current();
    const node = context.node;
    context.task.checkpoints++;
    if (node.effective !== null) return Promise.reject(node.effective);
    const error = this.unusable("send()");
    if (error !== null) return Promise.reject(error);
    if (this.state.trySend(value)) return node.runtime!.yieldIfDue() ?? RESOLVED;
    return this.state.sendLot.park(context, value, this).promise;
  }

  sendNowait(value: T): void {
    const error = this.unusable("sendNowait()");
    if (error !== null) throw error;
    if (!this.state.trySend(value)) {
      throw new WouldBlock(
        `sendNowait() would block: the buffer is full (${this.state.maxBufferSize} values) and no task is waiting to receive`,
      );
    }
  }

  sendMany(values: Iterable<T>): SendManyPromise {
    const batch = new SendBatch();
    let promise: Promise<void>;
    if (values === null || typeof (values as Partial<Iterable<T>> | undefined)?.[Symbol.iterator] !== "function") {
      promise = Promise.reject(new TypeError(`sendMany() values must be an iterable; got ${describe(values)}`));
    } else {
      const context = current();
      context.task.checkpoints++;
      const node = context.node;
      const error = node.effective ?? this.unusable("sendMany()");
      promise = error !== null ? Promise.reject(error) : this.#sendMany(context, values, batch);
    }
    return withDelivered(promise, batch);
  }

  async #sendMany(context: Context, values: Iterable<T>, batch: SendBatch): Promise<void> {
    if (Array.isArray(values)) return this.#sendArray(context, values, batch);
    const node = context.node;
    const state = this.state;
    let waited = false;
    for (const value of values) {
      // Anything may have happened while this task waited, or while the iterable ran.
      if (node.effective !== null) throw node.effective;
      const error = this.unusable("sendMany()");
      if (error !== null) throw error;
      if (!state.trySend(value)) {
        waited = true;
        await state.sendLot.park(context, value, this).promise;
      }
      batch.delivered++;
    }
    if (!waited) await node.runtime!.yieldIfDue();
  }

  /**
   * sendMany() of an array: the same steps, a run of values at a time. Values
   * go first to the receivers waiting (in order), then into the buffer in one
   * step, and only the value that finds no room waits. No user code runs
   * between two values, so the checks need not be repeated for each.
   */
  async #sendArray(context: Context, values: readonly T[], batch: SendBatch): Promise<void> {
    const node = context.node;
    const state = this.state;
    const count = values.length;
    let i = 0;
    let waited = false;
    while (i < count) {
      if (node.effective !== null) throw node.effective;
      const error = this.unusable("sendMany()");
      if (error !== null) throw error;
      while (i < count && state.receiveLot.size > 0) state.trySend(values[i++] as T);
      const room = Math.min(count - i, state.maxBufferSize - state.buffer.size);
      if (room > 0) {
        state.buffer.pushAll(values, i, i + room);
        i += room;
      }
      batch.delivered = i;
      if (i < count) {
        waited = true;
        await state.sendLot.park(context, values[i], this).promise;
        batch.delivered = ++i;
      }
    }
    if (!waited) await node.runtime!.yieldIfDue();
  }

  clone(): SendChannel<T> {
    if (this.closed) throw new ClosedResourceError("clone() of a send channel that was closed");
    this.state.openSendChannels++;
    return new MemorySendChannel(this.state);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const state = this.state;
    state.failWaitersOf(state.sendLot, this, () => new ClosedResourceError("the send channel was closed while send() was waiting on it"));
    if (--state.openSendChannels === 0) state.endReceivers();
  }

  /** The error an operation `what` on this end gets because the end or the channel cannot take values, or `null`. */
  unusable(what: string): Error | null {
    if (this.closed) return new ClosedResourceError(`${what} on a send channel that was closed`);
    if (this.state.openReceiveChannels === 0) {
      return new BrokenResourceError(`${what} on a channel whose receive channels are all closed: nobody would receive the value`);
    }
    return null;
  }
}

class MemoryReceiveChannel<T> extends ChannelEnd<T> implements ReceiveChannel<T> {
  declare readonly [CONCURRENT_NEXT]: true;

  receive(): Promise<T> {
    return this.#receive(undefined) as Promise<T>;
  }

  receiveNowait(): T {
    if (this.closed) throw new ClosedResourceError("receiveNowait() on a receive channel that was closed");
    if (this.state.ready) return this.state.take();
    if (this.state.openSendChannels === 0) {
      const failure = this.state.takeFailure();
      if (failure !== null) throw failure.error;
      throw new EndOfChannel("receiveNowait(): every send channel is closed and the buffer is empty");
    }
    throw new WouldBlock("receiveNowait() would block: the buffer is empty and no task is waiting to send");
  }

  receiveMany(max: number = Infinity): Promise<T[]> {
    const error = checkBatchSize(max, "receiveMany()");
    if (error !== null) return Promise.reject(error);
    return this.#receive(MANY, max) as Promise<T[]>;
  }

  /** Adds to `batch` the values ready now, up to `max` in all. */
  #takeReady(batch: T[], max: number): T[] {
    const state = this.state;
    while (batch.length < max && !this.closed && state.ready) {
      if (state.sendLot.size === 0) {
        state.buffer.shiftInto(batch, max - batch.length); // nobody to refill the buffer from: take a run at once
        break;
      }
      batch.push(state.take());
    }
    return batch;
  }

  clone(): ReceiveChannel<T> {
    if (this.closed) throw new ClosedResourceError("clone() of a receive channel that was closed");
    this.state.openReceiveChannels++;
    return new MemoryReceiveChannel(this.state);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const state = this.state;
    state.failWaitersOf(state.receiveLot, this, () => new ClosedResourceError("the receive channel was closed while receive() was waiting on it"));
    if (--state.openReceiveChannels === 0) {
      state.sendLot.failAll(new BrokenResourceError("every receive channel was closed while send() was waiting: the value was not delivered"));
      state.buffer.clear();
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.#receive(ITERATING) as Promise<IteratorResult<T>>,
      // Leaving a `for await` loop early does not close the channel.
      return: () => Promise.resolve(DONE),
    };
  }

  /**
   * receive(); with `mode` ITERATING the iterator's next(); with MANY,
   * receiveMany(max): the same operation, with the result shaped for it.
   */
  #receive(mode: typeof ITERATING | typeof MANY | undefined, max = 1): Promise<unknown> {
    const context = current();
    const node = context.node;
    context.task.checkpoints++;
    if (node.effective !== null) return Promise.reject(node.effective);
    if (this.closed) return Promise.reject(new ClosedResourceError(`${receiveName(mode)} on a receive channel that was closed`));
    const state = this.state;
    if (state.ready) {
      let result: unknown;
      if (mode === MANY) result = this.#takeReady([], max);
      else {
        const value = state.take();
        result = mode === ITERATING ? { value, done: false } : value;
      }
      return node.runtime!.completed(result);
    }
    if (state.openSendChannels === 0) {
      const failure = state.takeFailure();
      if (failure !== null) return Promise.reject(failure.error);
      return mode === ITERATING
        ? Promise.resolve(DONE)
        : Promise.reject(new EndOfChannel(`${receiveName(mode)}: every send channel is closed and the buffer is empty`));
    }
    // A MANY receiver is woken like a plain one, with its first value; the rest is what is ready when it has it.
    let promise = state.receiveLot.park(context, mode === ITERATING ? ITERATING : undefined, this).promise;
    if (mode === MANY) promise = promise.then((value) => this.#takeReady([value as T], max));
    state.receiverWatchers?.wakeAll();
    return promise;
  }
}

Object.defineProperty(MemoryReceiveChannel.prototype, CONCURRENT_NEXT, { value: true });

// ------------------------------------------------------------- batches

/** @internal The operation's name for an error message: `receive()` (also for iteration) or `receiveMany()`. */
export function receiveName(mode: unknown): string {
  return mode === MANY ? "receiveMany()" : "receive()";
}

/** The count behind a `SendManyPromise`'s `delivered`. */
export class SendBatch {
  delivered = 0;
}

/** @internal `promise` as a `SendManyPromise` whose `delivered` reads `batch`'s count. */
export function withDelivered(promise: Promise<void>, batch: SendBatch): SendManyPromise {
  return Object.defineProperty(promise, "delivered", { get: () => batch.delivered, enumerable: true }) as SendManyPromise;
}

/** @internal The `max` of a batch: a positive integer or `Infinity`; else the error to throw. */
export function checkBatchSize(max: unknown, what: string): Error | null {
  if (typeof max !== "number") return new TypeError(`${what} max must be a number; got ${describe(max)}`);
  if (max !== Infinity && !(Number.isInteger(max) && max >= 1)) {
    return new RangeError(`${what} max must be a positive integer or Infinity; got ${max}`);
  }
  return null;
}

// ------------------------------------------------------------- for produce()

/**
 * @internal `produce()`'s lazy send: sends `value` on `channel` (waiting for a
 * receiver if none waits), then waits until a receiver waits again (the
 * consumer asking for the next value). One checkpoint for both, and no
 * promise between them when a receiver was waiting, as it is in lockstep.
 */
export function sendThenAwaitRequest<T>(channel: SendChannel<T>, value: T): Promise<void> {
  const context = current();
  const node = context.node;
  context.task.checkpoints++;
  if (node.effective !== null) return Promise.reject(node.effective);
  const end = channel as MemorySendChannel<T>;
  const error = end.unusable("send()");
  if (error !== null) return Promise.reject(error);
  const state = end["state"];
  if (!state.trySend(value)) return state.sendLot.park(context, value, end).promise.then(() => whenReceiverWaits(channel));
  const pause = node.runtime!.yieldIfDue(); // a producer and consumer in lockstep must not starve the event loop
  if (pause !== undefined) return pause.then(() => whenReceiverWaits(channel));
  if (state.receiveLot.size > 0) return RESOLVED;
  return parkForRequest(state, context).promise;
}

/** Parks the task of `context` until a receiver waits on the channel of `state`. */
function parkForRequest(state: ChannelState<unknown>, context: Context): Waiter<void> {
  return (state.receiverWatchers ??= new ParkingLot({ operation: "wait for a request", object: "producer stream", name: state.receiveLot.what.name })).park(context);
}

/**
 * @internal Resolves once a task is waiting to receive from the channel of
 * `channel` (at once if one is). A checkpoint. `produce()` uses it: a waiting
 * receiver is the consumer asking for the next value.
 */
export function whenReceiverWaits(channel: SendChannel<unknown>): Promise<void> {
  const context = current();
  context.task.checkpoints++;
  if (context.node.effective !== null) return Promise.reject(context.node.effective);
  const state = (channel as MemorySendChannel<unknown>)["state"];
  if (state.receiveLot.size > 0) return RESOLVED;
  return parkForRequest(state, context).promise;
}

/**
 * @internal Closes the send end `channel`, so that the channel ends with
 * `error`: once the buffer is drained, the next receiver gets `error` thrown
 * (the ones after it, the plain end; with `sticky`, every one). `produce()`
 * uses it to deliver a producer's failure after the values sent before it.
 */
export function closeWithFailure(channel: SendChannel<unknown>, error: unknown, sticky = false): void {
  (channel as MemorySendChannel<unknown>)["state"].failure = { error, sticky };
  channel.close();
}

/** @internal The failure the channel of `channel` ended with that no receiver has been given yet, if any. */
export function unseenFailureOf(channel: ReceiveChannel<unknown>): { error: unknown } | null {
  return (channel as MemoryReceiveChannel<unknown>)["state"].failure;
}
