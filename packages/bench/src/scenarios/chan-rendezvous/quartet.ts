import { openMemoryChannel, taskGroup } from "quartet";
import type { Peer } from "../../scenario.js";
import { CAPACITY } from "./scenario.js";

const peer: Peer = async (n) => {
  const [send, receive] = openMemoryChannel<number>(CAPACITY);
  let sum = 0;
  await taskGroup(async (tg) => {
    tg.spawn(async () => {
      using tx = send;
      for (let i = 0; i < n; i++) await tx.send(i);
    });
    for await (const value of receive) sum += value;
  });
  return { result: sum };
};
export default peer;
