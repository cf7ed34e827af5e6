import { RawChannel } from "../../raw-channel.js";
import type { Peer } from "../../scenario.js";
import { CAPACITY, STAGES } from "./scenario.js";

const peer: Peer = async (n) => {
  const channels = Array.from({ length: STAGES + 1 }, () => new RawChannel<number>(CAPACITY));
  const tasks: Promise<void>[] = [];
  tasks.push(
    (async () => {
      for (let i = 0; i < n; i++) await channels[0]!.send(i);
      channels[0]!.close();
    })(),
  );
  for (let s = 0; s < STAGES; s++) {
    const input = channels[s]!;
    const output = channels[s + 1]!;
    tasks.push(
      (async () => {
        for (;;) {
          const next = await input.receive();
          if (next.done) break;
          await output.send(next.value + 1);
        }
        output.close();
      })(),
    );
  }
  let sum = 0;
  const sink = channels[STAGES]!;
  for (;;) {
    const next = await sink.receive();
    if (next.done) break;
    sum += next.value;
  }
  await Promise.all(tasks);
  return { result: sum };
};
export default peer;
