import { Effect, Fiber } from "effect";
import type { Peer } from "../../scenario.js";
import { HOUR } from "./scenario.js";

const peer: Peer = async (n, meter) => {
  let cleaned = 0;
  const sleeper = Effect.sleep(HOUR).pipe(
    Effect.ensuring(
      Effect.sync(() => {
        cleaned++;
      }),
    ),
  );
  const indices = Array.from({ length: n }, (_, i) => i);
  await Effect.runPromise(
    Effect.gen(function* () {
      const sleepers = yield* Effect.forkChild(Effect.forEach(indices, () => sleeper, { concurrency: "unbounded", discard: true }));
      yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve))); // everyone is asleep
      meter.start();
      yield* Fiber.interrupt(sleepers);
      meter.stop();
    }),
  );
  return { result: cleaned, note: 'Effect.forEach with concurrency "unbounded" in a forked fiber, which is interrupted' };
};
export default peer;
