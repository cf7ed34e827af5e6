import { Effect } from "effect";
import type { Peer } from "../../scenario.js";

const peer: Peer = async (n) => {
  let sum = 0;
  const indices = Array.from({ length: n }, (_, i) => i);
  await Effect.runPromise(
    Effect.forEach(
      indices,
      (i) =>
        Effect.sync(() => {
          sum += i;
        }),
      { concurrency: "unbounded", discard: true },
    ),
  );
  return { result: sum, note: 'Effect.forEach with concurrency "unbounded": one fiber per item, all joined' };
};
export default peer;
