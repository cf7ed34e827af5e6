// Channels: a pipeline with fan-out, shut down by closing.
// Run it with `npx --yes pnpm@12 tsx examples/channels.ts`; docs/channels.md walks through it.
import { openMemoryChannel, sleep, taskGroup, type ReceiveChannel, type SendChannel } from "@quartet/core";

// #region stages
/** Produces the numbers 1..count, then closes its send end: that is how "no more" travels downstream. */
async function produce(count: number, output: SendChannel<number>): Promise<void> {
  using out = output; // closed when this function returns, even if it throws
  for (let n = 1; n <= count; n++) await out.send(n);
}

/** Squares every number; ends when its input ends, and then closes its output. */
async function square(input: ReceiveChannel<number>, output: SendChannel<number>): Promise<void> {
  using out = output;
  for await (const n of input) await out.send(n * n);
}
// #endregion

// #region worker
/** One of several workers sharing an input: each value goes to exactly one of them. */
async function worker(name: string, input: ReceiveChannel<number>, results: SendChannel<string>): Promise<void> {
  using rx = input;
  using out = results;
  for await (const value of rx) {
    await sleep(value % 3); // uneven work: the channel hands values to whoever is free
    await out.send(`${name} handled ${value}`);
  }
}
// #endregion

// #region pipeline
await taskGroup(async (tg) => {
  const [numbersTx, numbersRx] = openMemoryChannel<number>(); // rendezvous: no buffer
  const [squaresTx, squaresRx] = openMemoryChannel<number>(4); // a small buffer smooths the fan-out
  const [resultsTx, resultsRx] = openMemoryChannel<string>(Infinity);

  tg.spawn(() => produce(10, numbersTx));
  tg.spawn(() => square(numbersRx, squaresTx));
  for (const name of ["worker-a", "worker-b", "worker-c"]) {
    // Each worker gets its own clones; the results channel ends when every clone is closed.
    // Clone here, not inside the spawned function: that runs later, after the closes below.
    const input = squaresRx.clone();
    const results = resultsTx.clone();
    tg.spawn(() => worker(name, input, results));
  }
  squaresRx.close(); // the workers hold clones; this end is not needed here
  resultsTx.close();

  const lines: string[] = [];
  for await (const line of resultsRx) lines.push(line);
  const total = lines.map((line) => Number(line.split(" ").at(-1))).reduce((a, b) => a + b, 0);
  console.log(`${lines.length} results, sum of squares ${total}`);
  for (const name of ["worker-a", "worker-b", "worker-c"]) {
    console.log(`${name}: ${lines.filter((line) => line.startsWith(name)).length} values`);
  }
});
// #endregion
