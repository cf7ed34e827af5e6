import { RawChannel } from "../../raw-channel.js";
import type { Peer } from "../../scenario.js";
import { CAPACITY, WORKERS, spread } from "./scenario.js";

const peer: Peer = async (n) => {
  const channel = new RawChannel<number>(CAPACITY);
  const counts = new Array<number>(WORKERS).fill(0);
  let sum = 0;
  const workers = counts.map(async (_, w) => {
    for (;;) {
      const next = await channel.receive();
      if (next.done) break;
      sum += next.value;
      counts[w]!++;
    }
  });
  for (let i = 0; i < n; i++) await channel.send(i);
  channel.close();
  await Promise.all(workers);
  return { result: sum, metrics: { spread: spread(counts) * 100 } };
};
export default peer;
