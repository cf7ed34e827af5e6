import { Deferred, Effect, Fiber } from "effect";
import type { Peer } from "../../scenario.js";

const peer: Peer = async (n, meter) => {
  let woken = 0;
  let bytesPerTask = 0;
  const before = meter.heapUsed();
  await Effect.runPromise(
    Effect.gen(function* () {
      const event = yield* Deferred.make<void>();
      const waiter = Deferred.await(event).pipe(
        Effect.andThen(
          Effect.sync(() => {
            woken++;
          }),
        ),
      );
      const indices = Array.from({ length: n }, (_, i) => i);
      const waiters = yield* Effect.forkChild(Effect.forEach(indices, () => waiter, { concurrency: "unbounded", discard: true }));
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)));
      bytesPerTask = (meter.heapUsed() - before) / n;
      yield* Deferred.succeed(event, undefined);
      yield* Fiber.join(waiters);
    }),
  );
  return { result: woken, metrics: { bytesPerTask }, note: 'fibers of Effect.forEach (concurrency "unbounded") waiting on one Deferred' };
};
export default peer;
