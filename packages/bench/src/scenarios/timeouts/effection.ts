import { race, run, sleep, type Operation } from "effection";
import type { Peer } from "../../scenario.js";
import { TIMEOUT } from "./scenario.js";

class TimeoutError extends Error {
  override name = "TimeoutError";
}

function* timeout(ms: number): Operation<never> {
  yield* sleep(ms);
  throw new TimeoutError(`timed out after ${ms} ms`);
}

/** The timeout idiom of effection's guide: race the operation against a sleep that throws. */
function withTimeout<T>(operation: Operation<T>, ms: number): Operation<T> {
  return race([operation, timeout(ms)]);
}

function* body(i: number): Operation<number> {
  return i;
}

const peer: Peer = async (n) => {
  const sum = await run(function* () {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += yield* withTimeout(body(i), TIMEOUT);
    return sum;
  });
  return { result: sum, note: "race() of the body against a sleep that throws (the guide's timeout pattern)" };
};
export default peer;
