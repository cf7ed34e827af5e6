import { Effect, Fiber, Pull, Queue, type Cause } from "effect";
import type { Peer } from "../../scenario.js";
import { CAPACITY } from "./scenario.js";

const peer: Peer = async (n) => {
  let sum = 0;
  await Effect.runPromise(
    Effect.gen(function* () {
      const queue = yield* Queue.bounded<number, Cause.Done>(CAPACITY);
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
  return { result: sum };
};
export default peer;
