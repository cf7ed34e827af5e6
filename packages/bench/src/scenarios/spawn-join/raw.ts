import type { Peer } from "../../scenario.js";

const peer: Peer = async (n) => {
  let sum = 0;
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    tasks.push(
      (async () => {
        sum += i;
      })(),
    );
  }
  await Promise.all(tasks);
  return { result: sum };
};
export default peer;
