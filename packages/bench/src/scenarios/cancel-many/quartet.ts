import { sleep, taskGroup } from "@quartet/core";
import type { Peer } from "../../scenario.js";
import { HOUR } from "./scenario.js";

const peer: Peer = async (n, meter) => {
  let cleaned = 0;
  await taskGroup(async (tg) => {
    for (let i = 0; i < n; i++) {
      tg.spawn(async () => {
        try {
          await sleep(HOUR);
        } finally {
          cleaned++;
        }
      });
    }
    await new Promise((resolve) => setImmediate(resolve)); // everyone is asleep
    meter.start();
    tg.cancelScope.cancel();
  });
  meter.stop();
  return { result: cleaned };
};
export default peer;
