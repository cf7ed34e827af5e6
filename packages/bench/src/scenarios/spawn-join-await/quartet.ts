import { taskGroup } from "@quartet/core";
import type { Peer } from "../../scenario.js";

const peer: Peer = async (n) => {
  let sum = 0;
  await taskGroup(async (tg) => {
    for (let i = 0; i < n; i++) {
      tg.spawn(async () => {
        await null; // one turn of the microtask queue (not a Quartet operation)
        sum += i;
      });
    }
  });
  return { result: sum };
};
export default peer;
