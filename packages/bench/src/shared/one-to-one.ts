/**
 * The workload of chan-rendezvous and chan-buffered, which differ only in the
 * channel's capacity: one producer sends 0..n-1, one consumer sums them.
 */
import { Effect, Fiber, Pull, Queue, type Cause } from "effect";
import { createChannel, run, spawn } from "effection";
import { openMemoryChannel, taskGroup } from "@quartet/core";
import { RawChannel } from "../raw-channel.js";
import type { Peer } from "../scenario.js";

export function rawOneToOne(capacity: number): Peer {
  return async (n) => {
    const channel = new RawChannel<number>(capacity);
    const producer = (async () => {
      for (let i = 0; i < n; i++) await channel.send(i);
      channel.close();
    })();
    let sum = 0;
    for (;;) {
      const next = await channel.receive();
      if (next.done) break;
      sum += next.value;
    }
    await producer;
    return { result: sum };
  };
}

export function quartetOneToOne(capacity: number): Peer {
  return async (n) => {
    const [send, receive] = openMemoryChannel<number>(capacity);
    let sum = 0;
    await taskGroup(async (tg) => {
      tg.spawn(async () => {
        using tx = send;
        for (let i = 0; i < n; i++) await tx.send(i);
      });
      for await (const value of receive) sum += value;
    });
    return { result: sum };
  };
}

/** effection 4 has no bounded channel: a createChannel subscription (unbounded) stands in, so capacity is ignored. */
export function effectionOneToOne(): Peer {
  return async (n) => {
    let sum = 0;
    await run(function* () {
      const channel = createChannel<number>();
      const subscription = yield* channel; // subscribe before the producer sends: a channel drops what nobody is subscribed to
      yield* spawn(function* () {
        for (let i = 0; i < n; i++) yield* channel.send(i);
        yield* channel.close();
      });
      for (let next = yield* subscription.next(); !next.done; next = yield* subscription.next()) sum += next.value;
    });
    return { result: sum, note: "createChannel: no bounded channel, so the subscription's queue is unbounded (no backpressure, capacity ignored)" };
  };
}

export function effectOneToOne(capacity: number, note?: string): Peer {
  return async (n) => {
    let sum = 0;
    await Effect.runPromise(
      Effect.gen(function* () {
        const queue = yield* Queue.bounded<number, Cause.Done>(capacity);
        const producer = yield* Effect.forkChild(
          Effect.gen(function* () {
            for (let i = 0; i < n; i++) yield* Queue.offer(queue, i);
            yield* Queue.end(queue);
          }),
        );
        yield* Effect.gen(function* () {
          for (;;) sum += yield* Queue.take(queue);
        }).pipe(Pull.catchDone(() => Effect.void));
        yield* Fiber.join(producer);
      }),
    );
    return note === undefined ? { result: sum } : { result: sum, note };
  };
}
