import { createChannel, run, spawn } from "effection";
import type { Peer } from "../../scenario.js";

const peer: Peer = async (n) => {
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
export default peer;
