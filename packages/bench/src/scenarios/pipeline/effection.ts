import { createChannel, run, spawn, type Channel, type Subscription } from "effection";
import type { Peer } from "../../scenario.js";
import { STAGES } from "./scenario.js";

const peer: Peer = async (n) => {
  let sum = 0;
  await run(function* () {
    const channels: Channel<number, void>[] = [];
    const subscriptions: Subscription<number, void>[] = [];
    // Every stage subscribes to its input before anything is sent: a channel drops what nobody is subscribed to.
    for (let s = 0; s <= STAGES; s++) {
      const channel = createChannel<number>();
      channels.push(channel);
      subscriptions.push(yield* channel);
    }
    yield* spawn(function* () {
      const output = channels[0]!;
      for (let i = 0; i < n; i++) yield* output.send(i);
      yield* output.close();
    });
    for (let s = 0; s < STAGES; s++) {
      const input = subscriptions[s]!;
      const output = channels[s + 1]!;
      yield* spawn(function* () {
        for (let next = yield* input.next(); !next.done; next = yield* input.next()) yield* output.send(next.value + 1);
        yield* output.close();
      });
    }
    const sink = subscriptions[STAGES]!;
    for (let next = yield* sink.next(); !next.done; next = yield* sink.next()) sum += next.value;
  });
  return { result: sum, note: "createChannel between the stages: unbounded subscription queues (no backpressure, capacity ignored)" };
};
export default peer;
