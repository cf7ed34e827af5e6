import { Effect, Fiber, Pull, Queue, type Cause } from "effect";
import type { Peer } from "../../scenario.js";
import { CAPACITY, STAGES } from "./scenario.js";

type Channel = Queue.Queue<number, Cause.Done>;

/** Takes each value from `input`, offers it plus one to `output`, and ends `output` when `input` ends. */
const stage = (input: Channel, output: Channel) =>
  Effect.gen(function* () {
    for (;;) yield* Queue.offer(output, (yield* Queue.take(input)) + 1);
  }).pipe(Pull.catchDone(() => Queue.end(output)));

const peer: Peer = async (n) => {
  let sum = 0;
  await Effect.runPromise(
    Effect.gen(function* () {
      const queues: Channel[] = [];
      for (let s = 0; s <= STAGES; s++) queues.push(yield* Queue.bounded<number, Cause.Done>(CAPACITY));
      const fibers: Fiber.Fiber<unknown>[] = [];
      fibers.push(
        yield* Effect.forkChild(
          Effect.gen(function* () {
            for (let i = 0; i < n; i++) yield* Queue.offer(queues[0]!, i);
            yield* Queue.end(queues[0]!);
          }),
        ),
      );
      for (let s = 0; s < STAGES; s++) fibers.push(yield* Effect.forkChild(stage(queues[s]!, queues[s + 1]!)));
      yield* Effect.gen(function* () {
        for (;;) sum += yield* Queue.take(queues[STAGES]!);
      }).pipe(Pull.catchDone(() => Effect.void));
      yield* Fiber.joinAll(fibers);
    }),
  );
  return { result: sum, note: "Queue.bounded between the stages, one forked fiber per stage" };
};
export default peer;
