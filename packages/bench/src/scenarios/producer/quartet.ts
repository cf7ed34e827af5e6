import { produce } from "@quartet/core";
import type { Peer } from "../../scenario.js";

const peer: Peer = async (n) => {
  let sum = 0;
  await using stream = await produce<number>(async (ctx) => {
    await ctx.started();
    for (let i = 0; i < n; i++) await ctx.send(i);
  });
  for await (const value of stream) sum += value;
  return { result: sum };
};
export default peer;
