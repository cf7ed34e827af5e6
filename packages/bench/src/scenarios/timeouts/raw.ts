import type { Peer } from "../../scenario.js";
import { TIMEOUT } from "./scenario.js";

async function body(i: number, _signal: AbortSignal): Promise<number> {
  return i;
}

const peer: Peer = async (n) => {
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIMEOUT);
    try {
      sum += await body(i, controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }
  return { result: sum, note: "an AbortController and a setTimeout per scope" };
};
export default peer;
