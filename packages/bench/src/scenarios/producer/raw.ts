import type { Peer } from "../../scenario.js";

async function* numbers(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

const peer: Peer = async (n) => {
  let sum = 0;
  for await (const value of numbers(n)) sum += value;
  return { result: sum, note: "an async generator" };
};
export default peer;
