import { all, run, type Operation } from "effection";
import type { Peer } from "../../scenario.js";

const peer: Peer = async (n) => {
  let sum = 0;
  function* add(i: number): Operation<void> {
    sum += i;
  }
  await run(function* () {
    const operations: Operation<void>[] = [];
    for (let i = 0; i < n; i++) operations.push(add(i));
    yield* all(operations);
  });
  return { result: sum, note: "all() over the n operations (it spawns a task for each and joins them in order)" };
};
export default peer;
