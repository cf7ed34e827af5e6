import { openMemoryChannel, taskGroup, type ReceiveChannel } from "@quartet/core";
import type { Peer } from "../../scenario.js";
import { CAPACITY, STAGES } from "./scenario.js";

const peer: Peer = async (n) => {
  let sum = 0;
  await taskGroup(async (tg) => {
    const [source, first] = openMemoryChannel<number>(CAPACITY);
    tg.spawn(async () => {
      using tx = source;
      for (let i = 0; i < n; i++) await tx.send(i);
    });
    let input: ReceiveChannel<number> = first;
    for (let s = 0; s < STAGES; s++) {
      const [output, next] = openMemoryChannel<number>(CAPACITY);
      const stageInput = input;
      tg.spawn(async () => {
        using tx = output;
        for await (const value of stageInput) await tx.send(value + 1);
      });
      input = next;
    }
    for await (const value of input) sum += value;
  });
  return { result: sum };
};
export default peer;
