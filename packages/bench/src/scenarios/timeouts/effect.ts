import { Effect } from "effect";
import type { Peer } from "../../scenario.js";
import { TIMEOUT } from "./scenario.js";

// The body is asynchronous, as raw's and Quartet's `async () => i` are, so that the timeout is really armed.
const body = (i: number) => Effect.promise(async () => i);

const peer: Peer = async (n) => {
  const sum = await Effect.runPromise(
    Effect.gen(function* () {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += yield* Effect.timeout(body(i), TIMEOUT);
      return sum;
    }),
  );
  return { result: sum, note: "Effect.timeout around Effect.promise(async () => i)" };
};
export default peer;
