import { openMemoryChannel, taskGroup } from "@quartet/core";
import type { Peer } from "../../scenario.js";

const peer: Peer = async (n, meter) => {
  const [send, receive] = openMemoryChannel<number>(0);
  let sum = 0;
  let bytesPerTask = 0;
  const before = meter.heapUsed();
  await taskGroup(async (tg) => {
    for (let i = 0; i < n; i++) {
      tg.spawn(async () => {
        const value = await receive.receive();
        sum += value;
      });
    }
    await new Promise((resolve) => setImmediate(resolve));
    bytesPerTask = (meter.heapUsed() - before) / n;
    for (let i = 0; i < n; i++) await send.send(i);
  });
  return { result: sum, metrics: { bytesPerTask } };
};
export default peer;
