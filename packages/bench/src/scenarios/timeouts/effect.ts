import { Effect } from "effect";
import type { Peer } from "../../scenario.js";
import { TIMEOUT } from "./scenario.js";

const body = (i: number) => Effect.sync(() => i);

const peer: Peer = async (n) => {
  const sum = await Effect.runPromise(
    Effect.gen(function* () {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += yield* Effect.timeout(body(i), TIMEOUT);
      return sum;
    }),
  );
  // Effect.timeout races the body against a sleep; a body that completes when forked wins before the sleep starts.
  return { result: sum, note: "Effect.timeout around Effect.sync: the body finishes at once, so no timer is ever armed" };
};
export default peer;
