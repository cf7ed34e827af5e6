/**
 * Broadcast channels: one sending side and any number of subscribers, each of
 * which gets every value sent after it subscribed, in order, through a buffer
 * of its own.
 *
 * @module
 */

import {
  CONCURRENT_NEXT,
  DONE,
  ITERATING,
  MANY,
  SendBatch,
  checkBatchSize,
  receiveName,
  withDelivered,
  type ChannelStatistics,
  type ReceiveChannel,
  type SendChannel,
  type SendManyPromise,
} from "./channel.js";
import { current } from "./core/context.js";
import { Deque } from "./core/deque.js";
import { BrokenResourceError, ClosedResourceError, EndOfChannel, WouldBlock } from "./core/errors.js";
import { ParkingLot } from "./core/parking-lot.js";
import { RESOLVED } from "./core/runtime.js";
import { describe, nameOption, type NameOptions } from "./core/validate.js";

// ------------------------------------------------------------------- public types

/**
 * What a broadcast channel does when a value is sent while a subscriber's
 * buffer is full:
 *
 * - `"wait"` (the default): the sender waits until every subscriber has room,
 *   so the slowest subscriber sets the pace and nobody misses a value.
 * - `"dropOldest"`: that subscriber's oldest buffered value is dropped to make
 *   room (counted in its `statistics().dropped`); the sender never waits.
 * - `"fail"`: that subscriber is unsubscribed; once it has received what its
 *   buffer holds, its `receive()` throws `BrokenResourceError` saying that it
 *   fell behind. The sender never waits, and the other subscribers go on.
 *
 * @example
 * ```ts
 * import { openBroadcastChannel, type WhenFull } from "@quartet/core";
 *
 * const policy: WhenFull = "dropOldest"; // a ticker: the latest prices matter, old ones may go
 * const prices = openBroadcastChannel<number>(100, { whenFull: policy });
 * ```
 */
export type WhenFull = "wait" | "dropOldest" | "fail";

/**
 * Options of {@link openBroadcastChannel}.
 *
 * @example
 * ```ts
 * import { openBroadcastChannel } from "@quartet/core";
 *
 * const events = openBroadcastChannel<string>(64, { name: "events", whenFull: "fail" });
 * ```
 */
export interface BroadcastOptions extends NameOptions {
  /** What to do when a value is sent while a subscriber's buffer is full; `"wait"` if not given. */
  whenFull?: WhenFull;
}

/**
 * What `statistics()` of a broadcast channel's send handle reports: the
 * memory-channel fields, taken over all subscribers, plus the broadcast's own.
 *
 * @example
 * ```ts
 * import { openBroadcastChannel } from "@quartet/core";
 *
 * const bus = openBroadcastChannel<string>(8, { whenFull: "dropOldest" });
 * using a = bus.subscribe();
 * using b = bus.subscribe();
 * bus.sendNowait("hello");
 * a.receiveNowait();
 * const { subscribers, currentBufferUsed, valuesSent } = bus.statistics();
 * console.log(subscribers, currentBufferUsed, valuesSent); // 2 1 1 (b has not received it yet)
 * ```
 */
export interface BroadcastStatistics extends ChannelStatistics {
  /** Subscribers that receive the values sent from now on (not those closed, or unsubscribed under `"fail"`). */
  readonly subscribers: number;
  /** Values in the fullest subscriber's buffer: the one that is furthest behind. */
  readonly currentBufferUsed: number;
  /** Each subscriber's buffer capacity: a positive integer or `Infinity`. */
  readonly maxBufferSize: number;
  /** What a send does when a subscriber's buffer is full. */
  readonly whenFull: WhenFull;
  /** Send handles (the original and its clones) not yet closed. */
  readonly openSendChannels: number;
  /** Open handles of all subscribers (each subscription and its clones). */
  readonly openReceiveChannels: number;
  /** Tasks blocked in `send()` or `sendMany()`, waiting for every subscriber to have room. */
  readonly tasksWaitingSend: number;
  /** Tasks blocked in a receive from any subscriber. */
  readonly tasksWaitingReceive: number;
  /** Values sent so far (each counted once, however many subscribers got it, also when there were none). */
  readonly valuesSent: number;
}

/**
 * What `statistics()` of a subscription reports: the memory-channel fields
 * for this subscriber's buffer, plus how many values it lost under `"dropOldest"`.
 *
 * @example
 * ```ts
 * import { openBroadcastChannel } from "@quartet/core";
 *
 * const bus = openBroadcastChannel<number>(2, { whenFull: "dropOldest" });
 * using sub = bus.subscribe();
 * for (let i = 1; i <= 5; i++) bus.sendNowait(i);
 * console.log(sub.statistics().dropped); // 3: the buffer keeps 4 and 5
 * ```
 */
export interface SubscriptionStatistics extends ChannelStatistics {
  /** Values in this subscriber's buffer now. */
  readonly currentBufferUsed: number;
  /** Handles of this subscription (the original and its clones) not yet closed. */
  readonly openReceiveChannels: number;
  /** Tasks blocked in a receive from this subscription. */
  readonly tasksWaitingReceive: number;
  /** Values this subscriber lost because its buffer was full (under `"dropOldest"`). */
  readonly dropped: number;
}

/**
 * The sending side of a broadcast channel. Every value sent goes to every
 * subscriber there is at that moment, and to no later one; with no subscribers
 * a value goes to nobody (and sending still succeeds). Close it (or dispose of
 * it) when done: once every send handle is closed, each subscriber receives
 * what its buffer holds and then gets `EndOfChannel`.
 *
 * `send()` is a checkpoint. Under `whenFull: "wait"` it waits while any
 * subscriber's buffer is full, and delivers all or nothing: a send cancelled
 * while it waits reached no subscriber. Waiting senders are served in FIFO order.
 *
 * @example
 * ```ts
 * import { openBroadcastChannel, taskGroup } from "@quartet/core";
 *
 * const bus = openBroadcastChannel<string>(16);
 * await taskGroup(async (tg) => {
 *   for (const name of ["log", "metrics"]) {
 *     const sub = bus.subscribe({ name }); // subscribe before sending: values sent earlier are not seen
 *     tg.spawn(async () => {
 *       using events = sub;
 *       for await (const event of events) console.log(name, event);
 *     });
 *   }
 *   using tx = bus; // closing it ends both loops
 *   await tx.send("started");
 *   await tx.send("stopped");
 * });
 * ```
 */
export interface BroadcastChannel<T> extends SendChannel<T> {
  /**
   * A new subscriber, which gets every value sent from now on (none sent
   * before). Close it when done: under `"wait"`, a subscriber that neither
   * receives nor is closed stops every sender once its buffer is full. Throws
   * `ClosedResourceError` on a closed handle.
   */
  subscribe(options?: NameOptions): BroadcastSubscription<T>;
  /**
   * Sends the values of `values` one by one, in order, each as `send()` would.
   * A checkpoint at the start; later, whenever it had to wait, it stops with
   * `Cancelled` if its scope was cancelled meanwhile. The returned promise's
   * `delivered` counts the values sent so far.
   */
  sendMany(values: Iterable<T>): SendManyPromise;
  /** Another send handle of the same channel; the channel ends only when every send handle is closed. */
  clone(): BroadcastChannel<T>;
  /** The channel's statistics. */
  statistics(): BroadcastStatistics;
}

/**
 * One subscriber of a broadcast channel: a receive channel of every value sent
 * after it subscribed, with a buffer of its own. Iterate it with `for await`,
 * which ends when every send handle is closed and the buffer is drained;
 * leaving the loop early does not close it. Closing it (or every clone of it)
 * unsubscribes it.
 *
 * @example
 * ```ts
 * import { openBroadcastChannel } from "@quartet/core";
 *
 * const bus = openBroadcastChannel<number>(Infinity);
 * bus.sendNowait(0); // nobody subscribed yet: nobody gets it
 * using sub = bus.subscribe();
 * bus.sendNowait(1);
 * bus.sendNowait(2);
 * bus.close();
 * for await (const n of sub) console.log(n); // 1, 2
 * ```
 */
export interface BroadcastSubscription<T> extends ReceiveChannel<T> {
  /**
   * Waits like `receive()` for the first value, then also takes whatever else
   * this subscriber has buffered right now, up to `max` values in all (a
   * positive integer or `Infinity`, the default). A checkpoint; cancelled, it
   * took nothing. Throws `EndOfChannel` at the end, like `receive()`.
   */
  receiveMany(max?: number): Promise<T[]>;
  /** Another handle on the same subscription: the clones share its values, each value goes to one of them. */
  clone(): BroadcastSubscription<T>;
  /** Closes this handle; when every clone is closed, the subscriber is unsubscribed and its buffer dropped. Idempotent. */
  close(): void;
  /** This subscriber's statistics. */
  statistics(): SubscriptionStatistics;
}

/**
 * Opens a broadcast channel: one sending side (which can be cloned) and any
 * number of subscribers, each getting every value sent after it subscribed,
 * in order. `maxBufferSize` (a positive integer or `Infinity`) is the size of
 * each subscriber's buffer; `whenFull` says what happens when a value is sent
 * while one is full (see {@link WhenFull}).
 *
 * @example
 * ```ts
 * import { openBroadcastChannel, sleep, taskGroup } from "@quartet/core";
 *
 * const config = openBroadcastChannel<{ debug: boolean }>(1, { whenFull: "dropOldest", name: "config" });
 * await taskGroup(async (tg) => {
 *   const updates = config.subscribe({ name: "worker" });
 *   tg.spawn(async () => {
 *     using mine = updates;
 *     for await (const next of mine) console.log("debug is now", next.debug); // only the latest counts
 *   });
 *   using tx = config;
 *   await tx.send({ debug: true });
 *   await sleep(10);
 *   await tx.send({ debug: false });
 * });
 * ```
 */
export function openBroadcastChannel<T>(maxBufferSize: number, options?: BroadcastOptions): BroadcastChannel<T> {
  if (typeof maxBufferSize !== "number") {
    throw new TypeError(`openBroadcastChannel() maxBufferSize must be a number; got ${describe(maxBufferSize)}`);
  }
  if (maxBufferSize !== Infinity && !(Number.isInteger(maxBufferSize) && maxBufferSize > 0)) {
    throw new RangeError(
      `openBroadcastChannel() maxBufferSize must be a positive integer or Infinity (each subscriber buffers at least one value); got ${maxBufferSize}`,
    );
  }
  const name = nameOption(options, "openBroadcastChannel()");
  const whenFull: unknown = options?.whenFull === undefined ? "wait" : options.whenFull;
  if (whenFull !== "wait" && whenFull !== "dropOldest" && whenFull !== "fail") {
    const message = `openBroadcastChannel() whenFull must be "wait", "dropOldest" or "fail"; got ${describe(whenFull)}`;
    throw typeof whenFull === "string" ? new RangeError(message) : new TypeError(message);
  }
  return new BroadcastSender(new BroadcastState<T>(maxBufferSize, whenFull, name));
}

// ------------------------------------------------------------- shared state

/** A value as a receiver of `mode` is woken with it: an IteratorResult when iterating; an array for receiveMany. */
function shaped(mode: unknown, value: unknown): unknown {
  return mode === undefined ? value : mode === ITERATING ? { value, done: false } : [value];
}

/**
 * One subscriber, shared by the handles of its subscription. Invariant: its
 * receivers wait only while its buffer is empty and it has no `failure`.
 */
class Subscriber<T> {
  readonly buffer = new Deque<T>();
  readonly receiveLot: ParkingLot<unknown>;
  openHandles = 1;
  dropped = 0;
  /** Under `"fail"`, why it was unsubscribed: thrown by every receive once the buffer is drained. */
  failure: BrokenResourceError | null = null;

  constructor(name: string | undefined) {
    this.receiveLot = new ParkingLot({ operation: "receive", object: "broadcast subscription", name });
  }
}

/**
 * One broadcast channel. Invariants: `full` counts the subscribers whose
 * buffer is full, and only under `"wait"` (under the other policies it stays
 * 0); senders wait only while it is above 0, so a waiting sender's value is
 * delivered, to every subscriber at once, as soon as it drops to 0. The other
 * policies never make a sender wait.
 */
class BroadcastState<T> {
  readonly maxBufferSize: number;
  readonly whenFull: WhenFull;
  readonly waits: boolean;
  readonly name: string | undefined;
  readonly sendLot: ParkingLot<void>;
  /** Replaced, never changed in place, so that a delivery can go on over it while a subscriber leaves. */
  subscribers: Array<Subscriber<T>> = [];
  full = 0;
  openSendChannels = 1;
  valuesSent = 0;

  constructor(maxBufferSize: number, whenFull: WhenFull, name: string | undefined) {
    this.maxBufferSize = maxBufferSize;
    this.whenFull = whenFull;
    this.waits = whenFull === "wait";
    this.name = name;
    this.sendLot = new ParkingLot({ operation: "send", object: "broadcast channel", name });
  }

  /** Whether a value can be sent now without waiting (and without overtaking a waiting sender). */
  get ready(): boolean {
    return this.full === 0 && this.sendLot.size === 0;
  }

  /** Sends `value` to every subscriber (only when no sender has to wait): to a waiting receiver, else into the buffer. */
  deliver(value: T): void {
    this.valuesSent++;
    const subscribers = this.subscribers;
    for (let i = 0; i < subscribers.length; i++) {
      const subscriber = subscribers[i]!;
      const receiver = subscriber.receiveLot.shift();
      if (receiver !== null) {
        receiver.wake(shaped(receiver.value, value));
        continue;
      }
      const buffer = subscriber.buffer;
      if (buffer.size < this.maxBufferSize) {
        buffer.push(value);
        if (this.waits && buffer.size === this.maxBufferSize) this.full++;
      } else if (this.whenFull === "dropOldest") {
        buffer.shift();
        buffer.push(value);
        subscriber.dropped++;
      } else {
        // "fail" ("wait" never delivers while a buffer is full).
        subscriber.failure = new BrokenResourceError(
          `this subscription fell behind and was unsubscribed: its buffer of ${this.maxBufferSize} values was full when a value was sent (whenFull: "fail")`,
        );
        this.#remove(subscriber);
      }
    }
  }

  /** Takes the next value of `subscriber`'s non-empty buffer; the room it makes may let waiting senders go. */
  take(subscriber: Subscriber<T>): T {
    const buffer = subscriber.buffer;
    const wasFull = this.waits && buffer.size === this.maxBufferSize;
    const value = buffer.shift() as T;
    if (wasFull && --this.full === 0) this.#serveSenders();
    return value;
  }

  subscribe(name: string | undefined): Subscriber<T> {
    const subscriber = new Subscriber<T>(name ?? this.name);
    this.subscribers = [...this.subscribers, subscriber];
    return subscriber;
  }

  /** Every handle of `subscriber` was closed: it leaves, its buffer is dropped, and senders waiting for its room go on. */
  unsubscribe(subscriber: Subscriber<T>): void {
    if (this.waits && subscriber.buffer.size === this.maxBufferSize) this.full--;
    subscriber.buffer.clear();
    this.#remove(subscriber);
    if (this.full === 0) this.#serveSenders();
  }

  /** The last send handle closed: receivers waiting on an empty buffer learn that nothing more comes. */
  end(): void {
    for (const subscriber of this.subscribers) {
      const lot = subscriber.receiveLot;
      for (let receiver = lot.shift(); receiver !== null; receiver = lot.shift()) {
        if (receiver.value === ITERATING) receiver.wake(DONE);
        else receiver.fail(new EndOfChannel("every send handle of the broadcast channel was closed while a receive was waiting"));
      }
    }
  }

  statistics(): BroadcastStatistics {
    let currentBufferUsed = 0;
    let openReceiveChannels = 0;
    let tasksWaitingReceive = 0;
    for (const subscriber of this.subscribers) {
      currentBufferUsed = Math.max(currentBufferUsed, subscriber.buffer.size);
      openReceiveChannels += subscriber.openHandles;
      tasksWaitingReceive += subscriber.receiveLot.size;
    }
    return Object.freeze({
      subscribers: this.subscribers.length,
      currentBufferUsed,
      maxBufferSize: this.maxBufferSize,
      whenFull: this.whenFull,
      openSendChannels: this.openSendChannels,
      openReceiveChannels,
      tasksWaitingSend: this.sendLot.size,
      tasksWaitingReceive,
      valuesSent: this.valuesSent,
    });
  }

  statisticsOf(subscriber: Subscriber<T>): SubscriptionStatistics {
    return Object.freeze({
      currentBufferUsed: subscriber.buffer.size,
      maxBufferSize: this.maxBufferSize,
      openSendChannels: this.openSendChannels,
      openReceiveChannels: subscriber.openHandles,
      tasksWaitingSend: this.sendLot.size,
      tasksWaitingReceive: subscriber.receiveLot.size,
      dropped: subscriber.dropped,
    });
  }

  /** Delivers the values of waiting senders, first come first served, while every subscriber has room. */
  #serveSenders(): void {
    while (this.full === 0) {
      const sender = this.sendLot.shift();
      if (sender === null) return;
      this.deliver(sender.value as T);
      sender.wake();
    }
  }

  #remove(subscriber: Subscriber<T>): void {
    this.subscribers = this.subscribers.filter((s) => s !== subscriber);
  }
}

function endOfChannel(what: string): EndOfChannel {
  return new EndOfChannel(`${what}: every send handle of the broadcast channel is closed and this subscription's buffer is empty`);
}

/** Fails the tasks of `lot` that wait on the handle `owner` (which is being closed). */
function failWaitersOn(lot: ParkingLot<any>, owner: object, message: string): void {
  for (const waiter of lot) {
    if (waiter.owner === owner) {
      lot.remove(waiter);
      waiter.fail(new ClosedResourceError(message));
    }
  }
}

// ------------------------------------------------------------------- handles

// As in channel.ts, the operations are plain functions returning promises where they can
// complete at once, so that the fast path costs no promise of its own; errors are returned
// as rejected promises, never thrown synchronously.

/** What both kinds of handle share: disposal closes them. */
abstract class Handle implements Disposable, AsyncDisposable {
  abstract close(): void;

  [Symbol.dispose](): void {
    this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return RESOLVED;
  }
}

class BroadcastSender<T> extends Handle implements BroadcastChannel<T> {
  readonly #state: BroadcastState<T>;
  #closed = false;

  constructor(state: BroadcastState<T>) {
    super();
    this.#state = state;
  }

  send(value: T): Promise<void> {
    const context = current();
    const node = context.node;
    context.task.checkpoints++;
    if (node.effective !== null) return Promise.reject(node.effective);
    if (this.#closed) return Promise.reject(this.#closedError("send()"));
    const state = this.#state;
    if (state.ready) {
      state.deliver(value);
      return node.runtime!.yieldIfDue() ?? RESOLVED;
    }
    return state.sendLot.park(context, value, this).promise;
  }

  sendNowait(value: T): void {
    if (this.#closed) throw this.#closedError("sendNowait()");
    const state = this.#state;
    if (!state.ready) {
      throw new WouldBlock(`sendNowait() would block: a subscriber's buffer is full (${state.maxBufferSize} values)`);
    }
    state.deliver(value);
  }

  sendMany(values: Iterable<T>): SendManyPromise {
    const batch = new SendBatch();
    return withDelivered(this.#sendMany(values, batch), batch);
  }

  subscribe(options?: NameOptions): BroadcastSubscription<T> {
    const name = nameOption(options, "subscribe()");
    if (this.#closed) throw this.#closedError("subscribe()");
    const state = this.#state;
    return new Subscription(state, state.subscribe(name));
  }

  clone(): BroadcastChannel<T> {
    if (this.#closed) throw this.#closedError("clone()");
    this.#state.openSendChannels++;
    return new BroadcastSender(this.#state);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const state = this.#state;
    failWaitersOn(state.sendLot, this, "the broadcast channel was closed while a send was waiting on it: the value was not sent");
    if (--state.openSendChannels === 0) state.end();
  }

  statistics(): BroadcastStatistics {
    return this.#state.statistics();
  }

  async #sendMany(values: Iterable<T>, progress: { delivered: number }): Promise<void> {
    if (values === null || typeof (values as { [Symbol.iterator]?: unknown } | undefined)?.[Symbol.iterator] !== "function") {
      throw new TypeError(`sendMany() values must be an iterable; got ${describe(values)}`);
    }
    const context = current();
    const node = context.node;
    context.task.checkpoints++;
    if (node.effective !== null) throw node.effective;
    if (this.#closed) throw this.#closedError("sendMany()");
    const state = this.#state;
    const runtime = node.runtime!;
    const iterator = values[Symbol.iterator]();
    let exhausted = false; // the iterator finished or threw: it must not be closed
    try {
      for (;;) {
        if (this.#closed) throw this.#closedError("sendMany()"); // closed meanwhile (or by the iterator)
        let step: IteratorResult<T>;
        try {
          step = iterator.next();
        } catch (error) {
          exhausted = true;
          throw error;
        }
        if (step.done) {
          exhausted = true;
          return;
        }
        if (state.ready) {
          state.deliver(step.value);
          progress.delivered++;
          const pause = runtime.yieldIfDue();
          if (pause === undefined) continue;
          await pause;
        } else {
          if (node.effective !== null) throw node.effective; // the iterator may have cancelled it
          await state.sendLot.park(context, step.value, this).promise;
          progress.delivered++;
        }
        // Other tasks ran meanwhile: stop here if this task's scope was cancelled.
        if (node.effective !== null) throw node.effective;
      }
    } finally {
      if (!exhausted) closeQuietly(iterator);
    }
  }

  #closedError(what: string): ClosedResourceError {
    return new ClosedResourceError(`${what} on a broadcast channel that was closed`);
  }
}

function closeQuietly(iterator: Iterator<unknown>): void {
  try {
    iterator.return?.();
  } catch {
    // The sending already failed with an error of its own, as a for-of loop would.
  }
}

class Subscription<T> extends Handle implements BroadcastSubscription<T> {
  declare readonly [CONCURRENT_NEXT]: true;
  readonly #state: BroadcastState<T>;
  readonly #subscriber: Subscriber<T>;
  #closed = false;

  constructor(state: BroadcastState<T>, subscriber: Subscriber<T>) {
    super();
    this.#state = state;
    this.#subscriber = subscriber;
  }

  receive(): Promise<T> {
    return this.#receive(undefined) as Promise<T>;
  }

  receiveNowait(): T {
    if (this.#closed) throw this.#closedError("receiveNowait()");
    const subscriber = this.#subscriber;
    if (subscriber.buffer.size > 0) return this.#state.take(subscriber);
    if (subscriber.failure !== null) throw subscriber.failure;
    if (this.#state.openSendChannels === 0) throw endOfChannel("receiveNowait()");
    throw new WouldBlock("receiveNowait() would block: this subscription's buffer is empty");
  }

  receiveMany(max: number = Infinity): Promise<T[]> {
    const error = checkBatchSize(max, "receiveMany()");
    if (error !== null) return Promise.reject(error);
    return this.#receive(MANY, max) as Promise<T[]>;
  }

  clone(): BroadcastSubscription<T> {
    if (this.#closed) throw this.#closedError("clone()");
    this.#subscriber.openHandles++;
    return new Subscription(this.#state, this.#subscriber);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const subscriber = this.#subscriber;
    failWaitersOn(subscriber.receiveLot, this, "the broadcast subscription was closed while a receive was waiting on it");
    if (--subscriber.openHandles === 0) this.#state.unsubscribe(subscriber);
  }

  statistics(): SubscriptionStatistics {
    return this.#state.statisticsOf(this.#subscriber);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => this.#receive(ITERATING) as Promise<IteratorResult<T>>,
      // Leaving a `for await` loop early does not close the subscription.
      return: () => Promise.resolve(DONE),
    };
  }

  /** receive(), the iterator's next() (`mode` ITERATING) or receiveMany() (MANY): one operation, its result shaped for each. */
  #receive(mode: typeof ITERATING | typeof MANY | undefined, max = 1): Promise<unknown> {
    const context = current();
    const node = context.node;
    context.task.checkpoints++;
    if (node.effective !== null) return Promise.reject(node.effective);
    if (this.#closed) return Promise.reject(this.#closedError(receiveName(mode)));
    const state = this.#state;
    const subscriber = this.#subscriber;
    if (subscriber.buffer.size > 0) {
      let result: unknown;
      if (mode === MANY) {
        result = this.#takeReady([], max);
      } else {
        result = shaped(mode, state.take(subscriber));
      }
      return node.runtime!.completed(result);
    }
    if (subscriber.failure !== null) return Promise.reject(subscriber.failure);
    if (state.openSendChannels === 0) {
      return mode === ITERATING ? Promise.resolve(DONE) : Promise.reject(endOfChannel(receiveName(mode)));
    }
    const promise = subscriber.receiveLot.park(context, mode, this).promise;
    // A receiveMany() is woken with its first value; the rest is what has arrived by the time it has it.
    return mode === MANY ? promise.then((batch) => this.#takeReady(batch as T[], max)) : promise;
  }

  /** Adds to `batch` what this subscriber has buffered now, up to `max` values in all. */
  #takeReady(batch: T[], max: number): T[] {
    const subscriber = this.#subscriber;
    while (batch.length < max && !this.#closed && subscriber.buffer.size > 0) batch.push(this.#state.take(subscriber));
    return batch;
  }

  #closedError(what: string): ClosedResourceError {
    return new ClosedResourceError(`${what} on a broadcast subscription that was closed`);
  }
}

Object.defineProperty(Subscription.prototype, CONCURRENT_NEXT, { value: true });
