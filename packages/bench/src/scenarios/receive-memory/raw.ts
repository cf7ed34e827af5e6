import { RawChannel } from "../../raw-channel.js";
import type { Peer } from "../../scenario.js";

const peer: Peer = async (n, meter) => {
  const channel = new RawChannel<number>(0);
  let sum = 0;
  const before = meter.heapUsed();
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    tasks.push(
      (async () => {
        const next = await channel.receive();
        if (!next.done) sum += next.value;
      })(),
    );
  }
  const all = Promise.all(tasks);
  await new Promise((resolve) => setImmediate(resolve));
  const bytesPerTask = (meter.heapUsed() - before) / n;
  for (let i = 0; i < n; i++) await channel.send(i);
  await all;
  return { result: sum, metrics: { bytesPerTask }, note: "async functions waiting in the hand-written channel's receive()" };
};
export default peer;
