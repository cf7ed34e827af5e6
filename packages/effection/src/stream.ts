/**
 * `toStream()` and `fromStream()`: Quartet channels as effection streams, and
 * effection streams as Quartet producer streams, with backpressure both ways.
 *
 * @module
 */

import { EndOfChannel, produce, WouldBlock, type ProduceOptions, type ProducerStream } from "@quartet/core";
import type { Operation, Stream, Subscription } from "effection";
import { fromOperation, toOperation } from "./operation.js";
import { describe, isOperation, requireOptionalObject } from "./internal/validate.js";

/**
 * What {@link toStream} reads from: anything with a Quartet-style `receive()`
 * that throws `EndOfChannel` at the end — a `ReceiveChannel`, a
 * `ProducerStream`, a broadcast subscription. `receiveNowait()`, if present, is
 * used to take values that are ready without a round trip through Quartet.
 *
 * @example
 * ```ts
 * import { openMemoryChannel } from "@quartet/core";
 * import type { Receivable } from "@quartet/effection";
 *
 * const [, receive] = openMemoryChannel<string>();
 * const source: Receivable<string> = receive;
 * ```
 */
export interface Receivable<T> {
  receive(): Promise<T>;
  receiveNowait?(): T;
}

const DONE: IteratorReturnResult<void> = Object.freeze({ done: true, value: undefined });

/**
 * An effection `Stream` of the values received from a Quartet channel (or any
 * {@link Receivable}): each `next()` of a subscription receives one value; the
 * end of the channel (`EndOfChannel`) closes the stream. Other errors (a
 * `ClosedResourceError`, a producer's failure) are thrown by `next()` as they
 * are. A value is received only when the effection side asks for it, so a
 * Quartet sender waits for the effection consumer (backpressure). Halting
 * the consumer while it waits cancels the receive, which then took nothing.
 *
 * The stream does not own the channel: every subscription receives from the
 * same channel (subscribers share its values, each value goes to one of them),
 * and leaving the stream early does not close it; close it on the Quartet side.
 * `receive()` runs as with {@link toOperation}: under the scope that called
 * `fromOperation()`, if any.
 *
 * @example
 * ```ts
 * import { openMemoryChannel, taskGroup } from "@quartet/core";
 * import { each } from "effection";
 * import { fromOperation, toStream } from "@quartet/effection";
 *
 * const [send, receive] = openMemoryChannel<number>();
 * await taskGroup(async (tg) => {
 *   tg.spawn(async () => {
 *     await using out = send;
 *     for (let i = 1; i <= 3; i++) await out.send(i);
 *   });
 *   await fromOperation(function* () {
 *     for (const n of yield* each(toStream(receive))) {
 *       console.log(n); // 1, 2, 3
 *       yield* each.next();
 *     }
 *   });
 * });
 * ```
 */
export function toStream<T>(receive: Receivable<T>): Stream<T, void> {
  if (receive === null || typeof receive !== "object" || typeof receive.receive !== "function") {
    throw new TypeError(`toStream() source must be a ReceiveChannel (an object with a receive() method); got ${describe(receive)}`);
  }
  const next = nextOf(receive);
  const subscription: Subscription<T, void> = Object.freeze({ next: () => next });
  return {
    *[Symbol.iterator]() {
      return subscription;
    },
  };
}

/** The operation of a subscription's `next()`: a value ready now, else a receive on the Quartet side. */
function nextOf<T>(source: Receivable<T>): Operation<IteratorResult<T, void>> {
  const receive = () => source.receive();
  return {
    *[Symbol.iterator]() {
      try {
        if (typeof source.receiveNowait === "function") {
          try {
            return { done: false, value: source.receiveNowait() };
          } catch (error) {
            if (!(error instanceof WouldBlock)) throw error;
          }
        }
        return { done: false, value: yield* toOperation(receive) };
      } catch (error) {
        if (error instanceof EndOfChannel) return DONE;
        throw error;
      }
    },
  };
}

/**
 * Subscribes to an effection `Stream` and hands its values to Quartet code as a
 * producer stream (see `produce()` in `@quartet/core`): `for await` over it,
 * `receive()`, `close()`, `await using`.
 *
 * The subscription is made before `fromStream()` returns (an error there is
 * thrown by `fromStream()`), in an effection task under the calling scope, and
 * then pulled only as the consumer asks: with `buffer: 0` (the default) the
 * subscription's `next()` runs only when the consumer asks for a value, so the
 * effection producer is never ahead; with `buffer: N` at most N values are
 * taken ahead of the consumer. The stream's close ends the iteration (its close
 * value is dropped); its error reaches the consumer, as it is, after the values
 * sent before it. Leaving the loop early, `close()` or disposal halts the
 * effection side and waits until its `finally` blocks have run; so does
 * cancellation of the calling scope.
 *
 * @example
 * ```ts
 * import type { Stream } from "effection";
 * import { fromStream } from "@quartet/effection";
 *
 * // An effection stream of 1, 2, 3, …: each next() computes one number, when asked.
 * const naturals: Stream<number, never> = {
 *   *[Symbol.iterator]() {
 *     let n = 0;
 *     return {
 *       *next() {
 *         return { done: false as const, value: ++n };
 *       },
 *     };
 *   },
 * };
 * await using numbers = await fromStream(naturals);
 * for await (const n of numbers) {
 *   if (n > 3) break; // halts the effection side
 *   console.log(n); // 1, 2, 3
 * }
 * ```
 */
export async function fromStream<T>(stream: Stream<T, unknown>, options?: ProduceOptions): Promise<ProducerStream<T>> {
  if (!isOperation(stream)) {
    throw new TypeError(`fromStream() stream must be an effection Stream (an operation that yields a subscription); got ${describe(stream)}`);
  }
  requireOptionalObject(options, "fromStream() options");
  const buffer = options?.buffer ?? 0;
  if (typeof buffer !== "number") throw new TypeError(`fromStream() buffer must be a number; got ${describe(buffer)}`);
  if (buffer !== Infinity && !(Number.isInteger(buffer) && buffer >= 0)) {
    throw new RangeError(`fromStream() buffer must be 0, a positive integer or Infinity; got ${buffer}`);
  }
  return produce<T>(
    ({ started, send }) =>
      fromOperation(function* fromStream() {
        const subscription = yield* stream;
        yield* toOperation(started); // setup is done: produce() returns; go on when the consumer first asks
        for (;;) {
          const next = yield* subscription.next();
          if (next.done === true) return;
          yield* toOperation(send, next.value);
        }
      }),
    { buffer, name: options?.name ?? "fromStream" },
  );
}
