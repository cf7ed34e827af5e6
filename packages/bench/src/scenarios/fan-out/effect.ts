import { Effect, Fiber, Pull, Queue, type Cause } from "effect";
import type { Peer } from "../../scenario.js";
import { CAPACITY, WORKERS, spread } from "./scenario.js";

const peer: Peer = async (n) => {
  const counts = new Array<number>(WORKERS).fill(0);
  let sum = 0;
  await Effect.runPromise(
    Effect.gen(function* () {
      const queue = yield* Queue.bounded<number, Cause.Done>(CAPACITY);
      const workers: Fiber.Fiber<void>[] = [];
      for (let w = 0; w < WORKERS; w++) {
        workers.push(
          yield* Effect.forkChild(
            Effect.gen(function* () {
              for (;;) {
                const value = yield* Queue.take(queue);
                sum += value;
                counts[w]!++;
              }
            }).pipe(Pull.catchDone(() => Effect.void)),
          ),
        );
      }
      for (let i = 0; i < n; i++) yield* Queue.offer(queue, i);
      yield* Queue.end(queue);
      yield* Fiber.joinAll(workers);
    }),
  );
  return { result: sum, metrics: { spread: spread(counts) * 100 }, note: "one Queue.bounded taken from by 8 forked fibers" };
};
export default peer;
