import { createChannel, run, spawn, type Task } from "effection";
import type { Peer } from "../../scenario.js";
import { WORKERS, spread } from "./scenario.js";

const peer: Peer = async (n) => {
  const counts = new Array<number>(WORKERS).fill(0);
  let sum = 0;
  await run(function* () {
    // A channel broadcasts to every subscription, so the workers share one subscription and compete for its items.
    const channel = createChannel<number>();
    const subscription = yield* channel;
    const workers: Task<void>[] = [];
    for (let w = 0; w < WORKERS; w++) {
      workers.push(
        yield* spawn(function* () {
          for (let next = yield* subscription.next(); !next.done; next = yield* subscription.next()) {
            sum += next.value;
            counts[w]!++;
          }
        }),
      );
    }
    yield* spawn(function* () {
      for (let i = 0; i < n; i++) yield* channel.send(i);
      // close() ends the subscription once, for whichever worker takes it: once per worker.
      for (let w = 0; w < WORKERS; w++) yield* channel.close();
    });
    for (const worker of workers) yield* worker;
  });
  return {
    result: sum,
    metrics: { spread: spread(counts) * 100 },
    note: "one createChannel subscription shared by the workers: unbounded (no backpressure), closed once per worker",
  };
};
export default peer;
