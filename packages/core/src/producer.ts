/**
 * The two-phase producer: setup runs when it is started, data flows lazily as
 * the consumer pulls, cleanup always runs. Built on `TaskGroup.start` and
 * memory channels.
 *
 * @module
 */

import { closeWithFailure, openMemoryChannel, sendThenAwaitRequest, unseenFailureOf, whenReceiverWaits, type ReceiveChannel, type SendChannel } from "./channel.js";
import { RESOLVED } from "./core/runtime.js";
import { current, runInContext } from "./core/context.js";
import { nodeOf } from "./cancel-scope.js";
import type { CancelNode } from "./core/cancel-node.js";
import { BrokenResourceError, ClosedResourceError, cancellationOf } from "./core/errors.js";
import { instruments, taskWrappers, wrapTaskBody } from "./core/instruments.js";
import { Task } from "./core/task.js";
import { describe, requireFunction, requireOptionalName, requireOptionalObject } from "./core/validate.js";
import { taskGroup, type TaskGroup, type TaskStatus } from "./task-group.js";

// ------------------------------------------------------------------- public types

/**
 * What a producer function gets: the handshake that ends setup, and the way to
 * send values. Its functions need no `this`, so they can be destructured:
 * `produce(async ({ started, send }) => …)`.
 *
 * @example
 * ```ts
 * import { produce, type ProducerContext } from "@quartet/core";
 *
 * async function counter(ctx: ProducerContext<number>): Promise<void> {
 *   // setup goes here: an error now is thrown by produce()
 *   await ctx.started(); // returns when the consumer first asks for a value
 *   for (let i = 0; ; i++) await ctx.send(i);
 * }
 * await using numbers = await produce(counter);
 * console.log(await numbers.receive(), await numbers.receive()); // 0 1
 * ```
 */
export interface ProducerContext<T> {
  /**
   * Ends the setup phase: `produce()` resolves with the stream. Waits until the
   * consumer first asks for a value, so the data phase starts only when it is
   * wanted. Calling it twice throws.
   */
  started(): Promise<void>;
  /**
   * Hands `value` to the consumer. With `buffer: 0` it returns only when the
   * consumer asks for the value after this one, so the producer never computes
   * ahead; with `buffer: N` the producer may run up to N values ahead. Calling
   * it before `started()` starts the stream first. If the stream is closed after
   * `value` was taken, it throws `Cancelled` (the value was delivered).
   */
  send(value: T): Promise<void>;
}

/**
 * The consumer's side of a producer: an async iterable of its values that must
 * be closed (leaving a `for await` loop early, `close()`, or `await using`).
 *
 * @example
 * ```ts
 * import { EndOfChannel, produce, type ProducerStream } from "@quartet/core";
 *
 * const stream: ProducerStream<string> = await produce(async ({ send }) => {
 *   await send("the only value");
 * });
 * try {
 *   console.log(await stream.receive()); // "the only value"
 *   await stream.receive(); // throws EndOfChannel: the producer has returned
 * } catch (err) {
 *   if (!(err instanceof EndOfChannel)) throw err;
 * } finally {
 *   await stream.close(); // cancels the producer if it still runs, and waits for its cleanup
 * }
 * ```
 */
export interface ProducerStream<T> extends AsyncIterable<T>, AsyncDisposable {
  /**
   * The next value, asking the producer for it. A checkpoint. After the last
   * value it throws `EndOfChannel` — or, once, the error the producer failed
   * with; or, every time, `BrokenResourceError` if the producer was cancelled by
   * the scope that called `produce()` (its `cause` is that `Cancelled`: a
   * cancellation never crosses into a consumer whose own scope is not cancelled). After `close()`,
   * or in a task waiting in `receive()` while another closes the stream,
   * `ClosedResourceError`.
   */
  receive(): Promise<T>;
  /**
   * Cancels the producer and waits until its cleanup (`finally` blocks,
   * disposers) has finished — even if the caller's own scope is cancelled. Not a
   * checkpoint. Throws only if the producer failed with an error of its own
   * that the consumer has not seen. Calling it again, or from several tasks at
   * once, waits for the same end. Called by the producer itself (or a task of
   * its own), it returns at once: the cancellation unwinds the producer after.
   * A stream still open when its `run()` returns is closed by the run.
   */
  close(): Promise<void>;
}

/**
 * Options of {@link produce}.
 *
 * @example
 * ```ts
 * import { produce } from "@quartet/core";
 *
 * await using lines = await produce<string>(async ({ send }) => {
 *   for (const line of ["a", "b", "c"]) await send(line);
 * }, { buffer: 2, name: "line reader" }); // may run up to two lines ahead of the loop below
 * for await (const line of lines) console.log(line);
 * ```
 */
export interface ProduceOptions {
  /** How many values the producer may compute ahead of the consumer. Default 0: none. */
  buffer?: number;
  /** A name for the producer's task, for errors and debugging. */
  name?: string;
}

// ------------------------------------------------------------------- produce

/**
 * Starts `fn` as a producer task under the calling scope and resolves, with the
 * stream of its values, once its setup phase is done: when `fn` calls
 * `ctx.started()` (or first calls `ctx.send()`, or returns). An error during
 * setup is thrown by `produce()`, as it is. After that, `fn` runs only while
 * the consumer is pulling; an error it throws reaches the consumer after every
 * value sent before it. Closing the stream cancels `fn` and waits for its
 * cleanup. Cancelling the scope that called `produce()` cancels `fn` too.
 *
 * Hold the stream with `await using` (or close it in a `finally`), so that the
 * producer is cancelled and cleaned up however the consumer leaves.
 *
 * @example
 * ```ts
 * import { produce } from "@quartet/core";
 *
 * await using numbers = await produce<number>(async (ctx) => {
 *   // setup: open connections, files... (errors here are thrown by produce())
 *   await ctx.started();
 *   try {
 *     for (let i = 0; ; i++) await ctx.send(i); // runs only as fast as the consumer pulls
 *   } finally {
 *     console.log("producer cleaned up");
 *   }
 * });
 * for await (const n of numbers) {
 *   if (n === 3) break; // cancels the producer and waits for its finally block
 * }
 * ```
 */
export async function produce<T>(fn: (ctx: ProducerContext<T>) => Promise<void>, options?: ProduceOptions): Promise<ProducerStream<T>> {
  requireFunction(fn, "produce() producer");
  requireOptionalObject(options, "produce() options");
  requireOptionalName(options?.name, "produce() name");
  const buffer = options?.buffer ?? 0;
  if (typeof buffer !== "number") throw new TypeError(`produce() buffer must be a number; got ${describe(buffer)}`);
  if (buffer !== Infinity && !(Number.isInteger(buffer) && buffer >= 0)) {
    throw new RangeError(`produce() buffer must be 0, a positive integer or Infinity; got ${buffer}`);
  }
  const name = options?.name ?? (fn.name || "producer");

  // With a head start of N, the producer may have N values out: N - 1 in the channel's buffer and
  // one in send(), waiting. With none, the channel is a rendezvous and send() also waits for the
  // consumer to ask for the next value (a receiver waiting on the channel).
  const [valuesTx, valuesRx] = openMemoryChannel<T>(buffer === 0 ? 0 : buffer - 1);

  // The producer's task group is owned by the stream, not by the caller's code, so it runs
  // in a host task of its own: its wait for the producer must not count as the caller's.
  const caller = current();
  const runtime = caller.node.runtime!;
  const host = new Task(caller.node, `${name} (host)`);
  const link: ProducerLink = { closing: false, brokenByScope: null, receiveEnd: valuesRx };
  let group: TaskGroup | undefined;
  let setupDone: () => void = () => {};
  const setup = new Promise<void>((resolve) => (setupDone = resolve));
  runtime.taskStarted(host, caller.task);
  const hostBody = (): Promise<void | undefined> =>
    runInContext(host, () =>
      taskGroup(
        async (tg) => {
          group = tg;
          const context = new ProducerContextImpl<T>(valuesTx, buffer === 0);
          await tg.start((status: TaskStatus) => runProducer(fn, context, status, valuesTx, link), { name });
          setupDone();
        },
        { name: `produce(${name})` },
      ),
    );
  const done = taskWrappers === null ? hostBody() : wrapTaskBody(host, hostBody);
  const ended = done.then(
    () => runtime.taskEnded(host),
    (error: unknown) => {
      runtime.taskEnded(host, instruments === null ? undefined : { error });
      throw error;
    },
  );

  // Not a checkpoint: wait for the end of setup, or for the error that ended it.
  runtime.blockFor(caller.task, { operation: "wait for setup", object: "producer", name });
  try {
    await Promise.race([setup, ended]);
  } finally {
    runtime.unblockFor(caller.task);
  }
  const core = new StreamCore<T>(valuesRx, group!, ended, link);
  const stream = new ProducerStreamImpl<T>(core);
  unclosedStreams.register(stream, core, stream);
  // Until it ends, the producer is a leftover its run() cancels and waits for before returning.
  runtime.leftovers.add(core);
  ended.then(
    () => runtime.leftovers.delete(core),
    () => runtime.leftovers.delete(core),
  );
  return stream;
}

/** What the producer's task and the consumer's stream know of each other. */
interface ProducerLink {
  /** The consumer closed the stream (so the producer's cancellation is no failure, and receivers get ClosedResourceError). */
  closing: boolean;
  /** The error receivers get because the producer was cancelled by its own scope, not by close(). */
  brokenByScope: BrokenResourceError | null;
  /** The stream's end of the values channel. */
  readonly receiveEnd: ReceiveChannel<unknown>;
}

// ------------------------------------------------------------------- producer side

/**
 * Runs the producer function. A setup error goes to `start()`, and so to
 * `produce()`; after setup, an error (or cancellation) ends the values channel
 * with it, so the consumer gets it after every value sent before it.
 */
async function runProducer<T>(
  fn: (ctx: ProducerContext<T>) => Promise<void>,
  context: ProducerContextImpl<T>,
  status: TaskStatus,
  values: SendChannel<T>,
  link: ProducerLink,
): Promise<void> {
  context.status = status;
  let failure: { error: unknown } | null = null;
  try {
    await fn(context);
    if (!context.isStarted) status.started(); // returned during setup: an empty stream
  } catch (error) {
    if (!context.isStarted) {
      values.close();
      throw error; // a setup error: start(), and so produce(), throws it
    }
    failure = { error };
  }
  // The stream was closed before the producer ended, however it ended: tasks still waiting in
  // receive() get ClosedResourceError (their stream was closed), and close() reports a failure.
  if (link.closing) link.receiveEnd.close();
  if (failure === null) return values.close();
  const cancelled = cancellationOf(failure.error, current().node.effective);
  if (cancelled === undefined) return closeWithFailure(values, failure.error);
  // A cancellation never crosses into the consumer's task, whose own scopes are not cancelled
  // (a consumer in the cancelled scope gets its own Cancelled at its next checkpoint anyway).
  if (link.closing) return values.close();
  link.brokenByScope = new BrokenResourceError(`the producer was cancelled (${cancelled.message}), so the stream has no more values`, { cause: cancelled });
  // Sticky: every later receive() gets it, so no consumer takes the cut-off stream for a finished one.
  closeWithFailure(values, link.brokenByScope, true);
}

class ProducerContextImpl<T> implements ProducerContext<T> {
  status: TaskStatus | undefined;
  isStarted = false;
  readonly #values: SendChannel<T>;
  /** Whether send() waits for the consumer to ask for the next value (no head start). */
  readonly #lazy: boolean;

  constructor(values: SendChannel<T>, lazy: boolean) {
    this.#values = values;
    this.#lazy = lazy;
  }

  // Arrow functions, so that a producer may take them off the context: `async ({ send }) => …`.

  readonly started = (): Promise<void> => {
    if (this.isStarted) return Promise.reject(new Error("started() was called twice by the producer"));
    this.isStarted = true;
    this.status!.started();
    return whenReceiverWaits(this.#values); // the data phase begins when the consumer first asks
  };

  readonly send = (value: T): Promise<void> => {
    if (!this.isStarted) return this.started().then(() => this.send(value));
    // Lazy: return when the consumer asks for the next value.
    return this.#lazy ? sendThenAwaitRequest(this.#values, value) : this.#values.send(value);
  };
}

// ------------------------------------------------------------------- consumer side

/** What a task closing a stream waits in. */
const CLOSING = Object.freeze({ operation: "close", object: "producer stream" });

/** Cancels the producer of a stream that was garbage-collected without being closed. */
const unclosedStreams = new FinalizationRegistry<StreamCore<unknown>>((core) => {
  core.cancel("the producer's stream was garbage-collected without being closed");
});

/**
 * The stream's state, without a reference to the stream object itself, so that
 * the run (which closes leftover streams) and the finalization registry can
 * hold it while the stream can still be garbage-collected.
 *
 * The consumer's side is the values channel's receive end: receiving is
 * asking, since the producer waits for a receiver to wait. A receive()
 * cancelled while waiting withdraws the request with it.
 */
class StreamCore<T> {
  readonly values: ReceiveChannel<T>;
  readonly #group: TaskGroup;
  readonly #ended: Promise<void>;
  readonly #link: ProducerLink;
  /** Settles when the producer has ended after close(): with its unseen failure, if any. */
  #closed: Promise<void> | null = null;

  constructor(values: ReceiveChannel<T>, group: TaskGroup, ended: Promise<void>, link: ProducerLink) {
    this.values = values;
    this.#group = group;
    this.#ended = ended;
    this.#link = link;
    ended.catch(() => {}); // observed by close(); never an unhandled rejection
  }

  get closing(): boolean {
    return this.#closed !== null;
  }

  cancel(reason: unknown): void {
    this.#group.cancelScope.cancel(reason);
  }

  /**
   * Cancels the producer and waits for its cleanup — counted as blocked for each
   * task that waits, and never from inside the producer, which cannot wait for
   * itself: there, the cancellation unwinds it after close() returns. Tasks
   * already waiting in receive() wait for the producer's end too, and then get
   * ClosedResourceError (a value the producer sends meanwhile, shielded, still
   * reaches them).
   */
  close(): Promise<void> {
    if (this.#closed === null) {
      this.#link.closing = true;
      this.cancel("the producer's stream was closed");
      this.#closed = this.#ended.then(this.#afterEnd, this.#afterEnd);
      this.#closed.catch(() => {}); // a close() that nobody awaits does not make an unhandled rejection
    }
    const { node, task } = current();
    if (this.#isInside(node)) return RESOLVED;
    const runtime = node.runtime!;
    runtime.blockFor(task, CLOSING); // waiting for the producer's cleanup; not a checkpoint
    const unblock = (): void => runtime.unblockFor(task);
    return this.#closed.finally(unblock);
  }

  /** The producer's own failure that the consumer has not seen is not lost: close() throws it. */
  readonly #afterEnd = (): void => {
    this.values.close();
    const failure = unseenFailureOf(this.values);
    if (failure === null || failure.error === this.#link.brokenByScope) return;
    if (cancellationOf(failure.error, null) === undefined) throw failure.error;
  };

  /** Whether `node` is in the producer's group (the producer itself, or a task or scope of it). */
  #isInside(node: CancelNode): boolean {
    const groupNode = nodeOf(this.#group.cancelScope);
    for (let at: CancelNode | null = node; at !== null; at = at.parent) if (at === groupNode) return true;
    return false;
  }
}

/** The consumer's handle: receiving, iterating, closing. */
class ProducerStreamImpl<T> implements ProducerStream<T> {
  readonly #core: StreamCore<T>;
  readonly #valuesIterator: AsyncIterator<T>;

  constructor(core: StreamCore<T>) {
    this.#core = core;
    this.#valuesIterator = core.values[Symbol.asyncIterator]();
  }

  receive(): Promise<T> {
    if (this.#core.closing) return this.#closedError();
    return this.#core.values.receive();
  }

  close(): Promise<void> {
    unclosedStreams.unregister(this);
    return this.#core.close();
  }

  #closedError(): Promise<never> {
    const node = current().node;
    if (node.effective !== null) return Promise.reject(node.effective);
    return Promise.reject(new ClosedResourceError("receive() on a producer stream that was closed"));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => (this.#core.closing ? this.#closedError() : this.#valuesIterator.next()),
      // Leaving the loop early (break, return, throw) closes the stream: the producer is
      // cancelled and its cleanup has finished when the loop is left.
      return: async (): Promise<IteratorResult<T>> => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }
}
