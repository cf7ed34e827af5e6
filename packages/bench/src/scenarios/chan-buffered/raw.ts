import { RawChannel } from "../../raw-channel.js";
import type { Peer } from "../../scenario.js";
import { CAPACITY } from "./scenario.js";

const peer: Peer = async (n) => {
  const channel = new RawChannel<number>(CAPACITY);
  const producer = (async () => {
    for (let i = 0; i < n; i++) await channel.send(i);
    channel.close();
  })();
  let sum = 0;
  for (;;) {
    const next = await channel.receive();
    if (next.done) break;
    sum += next.value;
  }
  await producer;
  return { result: sum };
};
export default peer;
