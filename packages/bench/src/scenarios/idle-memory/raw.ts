import type { Peer } from "../../scenario.js";

const peer: Peer = async (n, meter) => {
  let set!: () => void;
  const event = new Promise<void>((resolve) => (set = resolve));
  let woken = 0;
  const before = meter.heapUsed();
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    tasks.push(
      (async () => {
        await event;
        woken++;
      })(),
    );
  }
  const all = Promise.all(tasks);
  await new Promise((resolve) => setImmediate(resolve));
  const bytesPerTask = (meter.heapUsed() - before) / n;
  set();
  await all;
  return { result: woken, metrics: { bytesPerTask }, note: "async functions awaiting one shared promise" };
};
export default peer;
