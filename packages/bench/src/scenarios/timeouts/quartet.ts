import { moveOnAfter } from "@quartet/core";
import type { Peer } from "../../scenario.js";
import { TIMEOUT } from "./scenario.js";

const peer: Peer = async (n) => {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (await moveOnAfter(TIMEOUT, async () => i))!;
  return { result: sum };
};
export default peer;
