import { Effect, Stream } from "effect";
import type { Peer } from "../../scenario.js";

/** Computes each value when the consumer pulls it: one element per pull. */
const numbers = (n: number) => Stream.unfold(0, (i) => Effect.succeed(i < n ? ([i, i + 1] as const) : undefined));

const peer: Peer = async (n) => {
  const sum = await Effect.runPromise(Stream.runFold(numbers(n), () => 0, (acc: number, value: number) => acc + value));
  return { result: sum, note: "Stream.unfold (one value computed per pull) consumed by Stream.runFold" };
};
export default peer;
