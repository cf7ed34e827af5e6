import { Event, taskGroup } from "@quartet/core";
import type { Peer } from "../../scenario.js";

const peer: Peer = async (n, meter) => {
  const event = new Event();
  let woken = 0;
  let bytesPerTask = 0;
  const before = meter.heapUsed();
  await taskGroup(async (tg) => {
    for (let i = 0; i < n; i++) {
      tg.spawn(async () => {
        await event.wait();
        woken++;
      });
    }
    await new Promise((resolve) => setImmediate(resolve));
    bytesPerTask = (meter.heapUsed() - before) / n;
    event.set();
  });
  return { result: woken, metrics: { bytesPerTask } };
};
export default peer;
