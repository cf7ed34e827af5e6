import { setMaxListeners } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { Peer } from "../../scenario.js";
import { HOUR } from "./scenario.js";

const peer: Peer = async (n, meter) => {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // one listener per sleeping task is the point here
  let cleaned = 0;
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    tasks.push(
      (async () => {
        try {
          await sleep(HOUR, undefined, { signal: controller.signal });
        } catch {
          // aborted
        } finally {
          cleaned++;
        }
      })(),
    );
  }
  await new Promise((resolve) => setImmediate(resolve)); // everyone is asleep
  meter.start();
  controller.abort();
  await Promise.all(tasks);
  meter.stop();
  return { result: cleaned, note: "timers/promises setTimeout with one AbortSignal" };
};
export default peer;
