/**
 * The two-phase producer: setup runs when it is started, data flows lazily as
 * the consumer pulls, cleanup always runs. Built on `TaskGroup.start` and
 * memory channels.
 *
 * @module
 */

import { openMemoryChannel, type ReceiveChannel, type SendChannel } from "./channel.js";
import { current, runInContext } from "./core/context.js";
import { ClosedResourceError, EndOfChannel, cancellationOf } from "./core/errors.js";
import { Task } from "./core/task.js";
import { describe, requireFunction, requireOptionalName, requireOptionalObject } from "./core/validate.js";
import { taskGroup, type TaskGroup, type TaskStatus } from "./task-group.js";

// ------------------------------------------------------------------- public types

/** What a producer function gets: the handshake that ends setup, and the way to send values. */
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
 */
export interface ProducerStream<T> extends AsyncIterable<T>, AsyncDisposable {
  /**
   * The next value, asking the producer for it. A checkpoint. After the last
   * value it throws `EndOfChannel` — or, once, the error the producer failed
   * with; after `close()`, `ClosedResourceError`.
   */
  receive(): Promise<T>;
  /**
   * Cancels the producer and waits until its cleanup (`finally` blocks,
   * disposers) has finished — even if the caller's own scope is cancelled. Not a
   * checkpoint. Throws only if the producer failed with an error of its own
   * that the consumer has not seen. Calling it again waits for the same end.
   */
  close(): Promise<void>;
}

/** Options of {@link produce}. */
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
 * import { produce } from "quartet";
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

  const [valuesTx, valuesRx] = openMemoryChannel<T>(buffer);
  const [demandTx, demandRx] = openMemoryChannel<void>(Infinity);
  const outcome: Outcome = { failure: undefined, failed: false };

  // The producer's task group is owned by the stream, not by the caller's code, so it runs
  // in a host task of its own: its wait for the producer must not count as the caller's.
  const caller = current();
  const runtime = caller.node.runtime!;
  const host = new Task(caller.node, `${name} (host)`);
  let group: TaskGroup | undefined;
  let setupDone: () => void = () => {};
  const setup = new Promise<void>((resolve) => (setupDone = resolve));
  runtime.taskStarted(host);
  const done = runInContext(host, () =>
    taskGroup(
      async (tg) => {
        group = tg;
        const context = new ProducerContextImpl<T>(valuesTx, demandRx, buffer);
        await tg.start((status: TaskStatus) => runProducer(fn, context, status, valuesTx, outcome), { name });
        setupDone();
      },
      { name: `produce(${name})` },
    ),
  );
  const ended = done.then(
    () => runtime.taskEnded(host),
    (error: unknown) => {
      runtime.taskEnded(host);
      throw error;
    },
  );

  // Not a checkpoint: wait for the end of setup, or for the error that ended it.
  runtime.block(caller.task);
  try {
    await Promise.race([setup, ended]);
  } finally {
    runtime.unblock(caller.task);
  }
  const stream = new ProducerStreamImpl<T>(valuesRx, demandTx, group!, ended, outcome);
  const cancel = group!.cancelScope;
  unclosedStreams.register(stream, cancel, stream);
  return stream;
}

// ------------------------------------------------------------------- producer side

/** How the producer ended after setup, for the consumer: its error (or cancellation), if any. */
interface Outcome {
  failed: boolean;
  failure: unknown;
}

/** Runs the producer function; after setup, its errors go to the consumer instead of the task group. */
async function runProducer<T>(
  fn: (ctx: ProducerContext<T>) => Promise<void>,
  context: ProducerContextImpl<T>,
  status: TaskStatus,
  values: SendChannel<T>,
  outcome: Outcome,
): Promise<void> {
  context.status = status;
  try {
    await fn(context);
    if (!context.isStarted) status.started(); // returned during setup: an empty stream
  } catch (error) {
    if (!context.isStarted) throw error; // a setup error: start(), and so produce(), throws it
    outcome.failed = true;
    outcome.failure = error;
  } finally {
    values.close(); // the consumer drains what was sent, then learns of the end (or the failure)
  }
}

class ProducerContextImpl<T> implements ProducerContext<T> {
  status: TaskStatus | undefined;
  isStarted = false;
  readonly #values: SendChannel<T>;
  readonly #demand: ReceiveChannel<void>;
  /** Values the producer may still send without waiting for a new request: the buffer's head start. */
  #credit: number;

  constructor(values: SendChannel<T>, demand: ReceiveChannel<void>, buffer: number) {
    this.#values = values;
    this.#demand = demand;
    this.#credit = buffer;
  }

  async started(): Promise<void> {
    if (this.isStarted) throw new Error("started() was called twice by the producer");
    this.isStarted = true;
    this.status!.started();
    await this.#demand.receive(); // the data phase begins when the consumer first asks
  }

  async send(value: T): Promise<void> {
    if (!this.isStarted) await this.started();
    await this.#values.send(value);
    if (this.#credit > 0) this.#credit--;
    else await this.#demand.receive(); // return when the consumer asks for the next value
  }
}

// ------------------------------------------------------------------- consumer side

/** Cancels the producer of a stream that was garbage-collected without being closed. */
const unclosedStreams = new FinalizationRegistry<{ cancel(reason?: unknown): void }>((scope) => {
  scope.cancel("the producer's stream was garbage-collected without being closed");
});

class ProducerStreamImpl<T> implements ProducerStream<T> {
  readonly #values: ReceiveChannel<T>;
  readonly #demand: SendChannel<void>;
  readonly #group: TaskGroup;
  readonly #ended: Promise<void>;
  readonly #outcome: Outcome;
  #closing: Promise<void> | null = null;
  #failureReported = false;
  /** Requests sent to the producer whose value has not been received yet. */
  #requested = 0;
  /** receive() calls under way. */
  #receivers = 0;

  constructor(values: ReceiveChannel<T>, demand: SendChannel<void>, group: TaskGroup, ended: Promise<void>, outcome: Outcome) {
    this.#values = values;
    this.#demand = demand;
    this.#group = group;
    this.#ended = ended;
    this.#outcome = outcome;
    ended.catch(() => {}); // observed by close(); never an unhandled rejection
  }

  async receive(): Promise<T> {
    const node = current().node;
    if (node.effective !== null) throw node.effective;
    if (this.#closing !== null) throw new ClosedResourceError("receive() on a producer stream that was closed");
    this.#receivers++;
    // One request per waiting receiver. A receive() cancelled while waiting leaves its
    // request standing, and the value it brings goes to the next receive().
    if (this.#requested < this.#receivers) {
      this.#requested++;
      try {
        this.#demand.sendNowait();
      } catch {
        // The producer has finished and closed its end: nothing more will be produced.
      }
    }
    try {
      const value = await this.#values.receive();
      this.#requested--;
      return value;
    } catch (error) {
      if (error instanceof EndOfChannel && this.#outcome.failed && !this.#failureReported) {
        this.#failureReported = true;
        throw this.#outcome.failure;
      }
      if (error instanceof ClosedResourceError && this.#closing !== null) {
        throw new ClosedResourceError("the producer stream was closed while receive() was waiting");
      }
      throw error;
    } finally {
      this.#receivers--;
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    unclosedStreams.unregister(this);
    this.#group.cancelScope.cancel("the producer's stream was closed");
    const { node, task } = current();
    const runtime = node.runtime!;
    runtime.block(task); // waiting for the producer's cleanup; not a checkpoint
    try {
      await this.#ended.catch(() => {});
    } finally {
      runtime.unblock(task);
      this.#values.close();
      this.#demand.close();
    }
    const { failed, failure } = this.#outcome;
    if (failed && !this.#failureReported && cancellationOf(failure, null) === undefined) {
      this.#failureReported = true;
      throw failure;
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
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
      // Leaving the loop early (break, return, throw) closes the stream: the producer is
      // cancelled and its cleanup has finished when the loop is left.
      return: async (): Promise<IteratorResult<T>> => {
        await this.close();
        return { value: undefined, done: true };
      },
    };
  }
}
