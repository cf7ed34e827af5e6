import { each, resource, run, type Stream } from "effection";
import type { Peer } from "../../scenario.js";

/** A stream that computes each value when its subscriber asks for it: a resource providing a subscription. */
function numbers(n: number): Stream<number, void> {
  return resource(function* (provide) {
    let i = 0;
    yield* provide({
      *next() {
        return i < n ? { done: false, value: i++ } : { done: true, value: undefined };
      },
    });
  });
}

const peer: Peer = async (n) => {
  let sum = 0;
  await run(function* () {
    for (const value of yield* each(numbers(n))) {
      sum += value;
      yield* each.next();
    }
  });
  return { result: sum, note: "a Stream (a resource providing a Subscription whose next() computes the value on demand), read with each()" };
};
export default peer;
