import type { Peer } from "../../scenario.js";

const peer: Peer = async (n) => {
  let sum = 0;
  const tasks: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    tasks.push(
      (async () => {
        await null; // one turn of the microtask queue, as a task that awaits anything once
        sum += i;
      })(),
    );
  }
  await Promise.all(tasks);
  return { result: sum, note: "async functions that each await once, joined with Promise.all" };
};
export default peer;
