import { run, spawn, until, withResolvers, type Task } from "effection";
import type { Peer } from "../../scenario.js";

const peer: Peer = async (n, meter) => {
  let woken = 0;
  let bytesPerTask = 0;
  const before = meter.heapUsed();
  await run(function* () {
    const event = withResolvers<void>();
    const tasks: Task<void>[] = [];
    for (let i = 0; i < n; i++) {
      tasks.push(
        yield* spawn(function* () {
          yield* event.operation;
          woken++;
        }),
      );
    }
    yield* until(new Promise((resolve) => setImmediate(resolve)));
    bytesPerTask = (meter.heapUsed() - before) / n;
    event.resolve();
    for (const task of tasks) yield* task;
  });
  return { result: woken, metrics: { bytesPerTask }, note: "spawned tasks waiting on one withResolvers() operation" };
};
export default peer;
