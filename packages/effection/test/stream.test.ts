import { describe, expect, it } from "vitest";
import {
  CancelScope,
  ClosedResourceError,
  EndOfChannel,
  Event,
  isCancelled,
  openMemoryChannel,
  produce,
  taskGroup,
} from "@quartet/core";
import { each, interval, resource, run as runEffection, suspend, until, type Operation, type Stream, type Subscription } from "effection";
import { fromOperation, fromStream, toStream } from "../src/index.js";

/** Collects every value of an effection stream, with effection's `each`. */
function* collect<T>(stream: Stream<T, unknown>, log: string[] = []): Operation<T[]> {
  const values: T[] = [];
  for (const value of yield* each(stream)) {
    log.push(`got ${String(value)}`);
    values.push(value);
    yield* each.next();
  }
  return values;
}

/**
 * An effection stream of 1, 2, … `limit` (then it closes with "the end"), that
 * logs each pull and when its subscription is torn down.
 */
function counting(log: string[], limit = Infinity, failAt = Infinity, failure: unknown = undefined): Stream<number, string> {
  return resource<Subscription<number, string>>(function* (provide) {
    let n = 0;
    try {
      yield* provide({
        *next() {
          n++;
          if (n === failAt) throw failure;
          if (n > limit) return { done: true, value: "the end" };
          log.push(`pull ${n}`);
          yield* until(Promise.resolve()); // each value takes a moment
          return { done: false, value: n };
        },
      });
    } finally {
      log.push("subscription torn down");
    }
  });
}

describe("toStream", () => {
  it("streams a channel's values to effection, and closes the stream at the end of the channel", async () => {
    const [send, receive] = openMemoryChannel<string>(Infinity);
    for (const word of ["a", "b", "c"]) send.sendNowait(word);
    send.close();
    expect(await fromOperation(() => collect(toStream(receive)))).toEqual(["a", "b", "c"]);
  });

  it("receives only when the effection consumer asks: a sender is never ahead by more than the channel's buffer", async () => {
    for (const buffer of [0, 2]) {
      const log: string[] = [];
      const [send, receive] = openMemoryChannel<number>(buffer);
      await taskGroup(async (tg) => {
        tg.spawn(async () => {
          await using out = send;
          for (let i = 1; i <= 5; i++) {
            await out.send(i);
            log.push(`sent ${i}`);
          }
        });
        await fromOperation(function* () {
          for (const value of yield* each(toStream(receive))) {
            const sent = log.filter((entry) => entry.startsWith("sent")).length;
            // While the consumer holds value i, the channel holds at most `buffer` more.
            expect(sent).toBeLessThanOrEqual(value + buffer);
            log.push(`got ${value}`);
            yield* until(Promise.resolve().then(() => undefined)); // the consumer takes a moment
            yield* each.next();
          }
        });
      });
      expect(log.filter((entry) => entry.startsWith("got"))).toEqual(["got 1", "got 2", "got 3", "got 4", "got 5"]);
    }
  });

  it("with a rendezvous channel, a send completes only once the consumer has taken the value before", async () => {
    const log: string[] = [];
    const [send, receive] = openMemoryChannel<number>(0);
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await using out = send;
        for (let i = 1; i <= 3; i++) {
          await out.send(i);
          log.push(`sent ${i}`);
        }
      });
      await fromOperation(() => collect(toStream(receive), log));
    });
    for (let i = 1; i < 3; i++) expect(log.indexOf(`sent ${i + 1}`)).toBeGreaterThan(log.indexOf(`got ${i}`));
    expect(log.filter((entry) => entry.startsWith("got"))).toEqual(["got 1", "got 2", "got 3"]);
  });

  it("cancels a receive that waits when the consumer halts: it took nothing, and the channel stays open", async () => {
    const [send, receive] = openMemoryChannel<string>(1);
    const task = runEffection(() => collect(toStream(receive)));
    await Promise.resolve();
    await task.halt();
    send.sendNowait("still there");
    expect(receive.receiveNowait()).toBe("still there");
    expect(receive.statistics().tasksWaitingReceive).toBe(0);
  });

  it("reads a producer stream, and gives the producer's error to next() as the same object", async () => {
    const failure = new Error("the producer failed");
    await using numbers = await produce<number>(async ({ send }) => {
      await send(1);
      await send(2);
      throw failure;
    });
    const log: string[] = [];
    const error = await fromOperation(() => collect(toStream(numbers), log)).catch((e: unknown) => e);
    expect(log).toEqual(["got 1", "got 2"]);
    expect(error).toBe(failure);
  });

  it("throws ClosedResourceError from next() when the receive end was closed", async () => {
    const [, receive] = openMemoryChannel<number>();
    receive.close();
    await expect(fromOperation(() => collect(toStream(receive)))).rejects.toBeInstanceOf(ClosedResourceError);
  });

  it("lets every subscription receive from the same channel, sharing its values", async () => {
    const [send, receive] = openMemoryChannel<number>(Infinity);
    for (let i = 1; i <= 4; i++) send.sendNowait(i);
    send.close();
    const stream = toStream(receive);
    const [first, second] = await fromOperation(function* () {
      const a = yield* stream;
      const b = yield* stream;
      return [yield* a.next(), yield* b.next()];
    });
    expect([first, second]).toEqual([{ done: false, value: 1 }, { done: false, value: 2 }]);
  });

  it("rejects a source without receive() with a TypeError naming it", () => {
    expect(() => toStream(42 as never)).toThrow(
      new TypeError("toStream() source must be a ReceiveChannel (an object with a receive() method); got 42"),
    );
    expect(() => toStream({} as never)).toThrow(/toStream\(\) source must be a ReceiveChannel .*; got an object/);
  });
});

describe("fromStream", () => {
  it("subscribes before it returns, then pulls each value only when the consumer asks", async () => {
    const log: string[] = [];
    await using numbers = await fromStream(counting(log, 3));
    log.push("fromStream returned");
    for await (const n of numbers) log.push(`got ${n}`);
    log.push("loop ended");
    expect(log).toEqual(["fromStream returned", "pull 1", "got 1", "pull 2", "got 2", "pull 3", "got 3", "subscription torn down", "loop ended"]);
    await expect(numbers.receive()).rejects.toBeInstanceOf(EndOfChannel);
  });

  it("with buffer: N, pulls at most N values ahead of the consumer", async () => {
    const log: string[] = [];
    await using numbers = await fromStream(counting(log, 6), { buffer: 2 });
    for await (const n of numbers) {
      const pulled = log.filter((entry) => entry.startsWith("pull")).length;
      expect(pulled).toBeLessThanOrEqual(n + 2);
      log.push(`got ${n}`);
      await new Promise((resolve) => setImmediate(resolve)); // a slow consumer: the producer runs ahead as far as it may
    }
    expect(log.filter((entry) => entry.startsWith("pull")).length).toBe(6);
    expect(log).toContain("pull 3"); // it did run ahead: pull 3 came before got 2
    expect(log.indexOf("pull 3")).toBeLessThan(log.indexOf("got 2"));
  });

  it("leaving the loop early halts the effection side before the loop's code goes on", async () => {
    const log: string[] = [];
    {
      await using numbers = await fromStream(counting(log));
      for await (const n of numbers) {
        log.push(`got ${n}`);
        if (n === 2) break;
      }
      log.push("after the loop");
    }
    expect(log).toEqual(["pull 1", "got 1", "pull 2", "got 2", "subscription torn down", "after the loop"]);
  });

  it("close() halts the effection side and waits for it, also from a cancelled scope", async () => {
    const log: string[] = [];
    const numbers = await fromStream(counting(log));
    expect(await numbers.receive()).toBe(1);
    const scope = new CancelScope();
    scope.cancel();
    await scope.run(async () => {
      await numbers.close();
      log.push("closed");
    });
    expect(log).toEqual(["pull 1", "subscription torn down", "closed"]);
    await expect(numbers.receive()).rejects.toBeInstanceOf(ClosedResourceError);
  });

  it("cancelling the consumer's scope halts the effection side", async () => {
    const log: string[] = [];
    const started = new Event();
    const scope = new CancelScope();
    await taskGroup(async (tg) => {
      tg.spawn(() =>
        scope.run(async () => {
          await using waiting = await fromStream(
            resource<Subscription<never, void>>(function* (provide) {
              try {
                yield* provide({
                  *next() {
                    started.set();
                    yield* suspend();
                    return { done: true, value: undefined };
                  },
                });
              } finally {
                log.push("subscription torn down");
              }
            }),
          );
          try {
            await waiting.receive();
          } catch (error) {
            log.push(`receive threw ${isCancelled(error) ? "Cancelled" : String(error)}`);
            throw error;
          }
        }),
      );
      await started.wait();
      scope.cancel();
    });
    expect(log).toEqual(["receive threw Cancelled", "subscription torn down"]);
    expect(scope.cancelledCaught).toBe(true);
  });

  it("throws an error of the subscription from fromStream(), and an error of next() after the values before it, as the same objects", async () => {
    const subscribeFailure = new Error("cannot subscribe");
    const broken: Stream<number, void> = {
      *[Symbol.iterator]() {
        yield* until(Promise.resolve());
        throw subscribeFailure;
      },
    };
    expect(await fromStream(broken).catch((e: unknown) => e)).toBe(subscribeFailure);

    const nextFailure = new Error("next failed");
    const log: string[] = [];
    await using numbers = await fromStream(counting(log, Infinity, 3, nextFailure));
    const got: number[] = [];
    const error = await (async () => {
      for await (const n of numbers) got.push(n);
    })().catch((e: unknown) => e);
    expect(got).toEqual([1, 2]);
    expect(error).toBe(nextFailure);
  });

  it("reads effection's own interval() stream, and clears its timer when left", async () => {
    await using ticks = await fromStream(interval(1));
    let count = 0;
    for await (const _ of ticks) if (++count === 3) break;
    expect(count).toBe(3); // vitest.setup.ts checks that no timer was left behind
  });

  it("reads an effection stream that Quartet wrote with toStream(), both ways at once", async () => {
    const [send, receive] = openMemoryChannel<number>();
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        await using out = send;
        for (let i = 1; i <= 3; i++) await out.send(i * 10);
      });
      await using roundTrip = await fromStream(toStream(receive));
      const got: number[] = [];
      for await (const n of roundTrip) got.push(n);
      expect(got).toEqual([10, 20, 30]);
    });
  });

  it("rejects bad arguments with TypeErrors and RangeErrors naming them", async () => {
    await expect(fromStream(42 as never)).rejects.toThrow(
      new TypeError("fromStream() stream must be an effection Stream (an operation that yields a subscription); got 42"),
    );
    await expect(fromStream(interval(1), "x" as never)).rejects.toThrow(new TypeError('fromStream() options must be an object if given; got "x"'));
    await expect(fromStream(interval(1), { buffer: "2" as never })).rejects.toThrow(new TypeError('fromStream() buffer must be a number; got "2"'));
    await expect(fromStream(interval(1), { buffer: -1 })).rejects.toThrow(new RangeError("fromStream() buffer must be 0, a positive integer or Infinity; got -1"));
  });
});
