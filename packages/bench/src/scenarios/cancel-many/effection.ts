import { run, sleep, spawn, suspend, until } from "effection";
import type { Peer } from "../../scenario.js";
import { HOUR } from "./scenario.js";

const peer: Peer = async (n, meter) => {
  let cleaned = 0;
  await run(function* () {
    const group = yield* spawn(function* () {
      for (let i = 0; i < n; i++) {
        yield* spawn(function* () {
          try {
            yield* sleep(HOUR);
          } finally {
            cleaned++;
          }
        });
      }
      yield* suspend();
    });
    yield* until(new Promise((resolve) => setImmediate(resolve))); // everyone is asleep
    meter.start();
    yield* group.halt();
    meter.stop();
  });
  return { result: cleaned, note: "the sleepers are spawned by one task, which is halted" };
};
export default peer;
