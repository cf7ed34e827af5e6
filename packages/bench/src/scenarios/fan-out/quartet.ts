import { openMemoryChannel, taskGroup } from "@quartet/core";
import type { Peer } from "../../scenario.js";
import { CAPACITY, WORKERS, spread } from "./scenario.js";

const peer: Peer = async (n) => {
  const counts = new Array<number>(WORKERS).fill(0);
  let sum = 0;
  await taskGroup(async (tg) => {
    const [send, receive] = openMemoryChannel<number>(CAPACITY);
    for (let w = 0; w < WORKERS; w++) {
      const rx = receive.clone();
      tg.spawn(async () => {
        for await (const value of rx) {
          sum += value;
          counts[w]!++;
        }
      });
    }
    receive.close();
    using tx = send;
    for (let i = 0; i < n; i++) await tx.send(i);
  });
  return { result: sum, metrics: { spread: spread(counts) * 100 } };
};
export default peer;
