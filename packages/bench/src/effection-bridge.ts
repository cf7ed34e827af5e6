// What a crossing of @quartet/effection costs, next to the nearest thing each side
// does on its own, in one process: `pnpm --filter @quartet/bench bridge [--quick]`.
// Prints the median of 7 runs (3 with --quick) per row, in µs per call or per value.
//
//   fromOperation(op)            vs  await effection's run(op)              (Quartet → effection)
//   yield* toOperation(fn)       vs  yield* call(fn)                        (effection → Quartet; outside and inside fromOperation)
//   for await (fromStream(s))    vs  effection's each(s)                    (effection stream → Quartet, per value)
//   each(toStream(channel))      vs  for await (channel)                    (Quartet channel → effection, per value)
import { openMemoryChannel, taskGroup } from "@quartet/core";
import { fromOperation, fromStream, toOperation, toStream } from "@quartet/effection";
import { call, each, run, type Operation, type Stream } from "effection";

const quick = process.argv.includes("--quick");
const runs = quick ? 3 : 7;
const calls = quick ? 2_000 : 20_000;
const values = quick ? 5_000 : 50_000;

/** A stream of 0 … n-1 whose next() resolves at once. */
function numbers(n: number): Stream<number, void> {
  return {
    *[Symbol.iterator]() {
      let i = 0;
      return {
        *next() {
          return i < n ? { done: false as const, value: i++ } : { done: true as const, value: undefined };
        },
      };
    },
  };
}

function* answer(): Operation<number> {
  return 42;
}
const quartetAnswer = async (): Promise<number> => 42;

const rows: Array<[string, number, () => Promise<unknown>]> = [
  ["await run(op) [effection alone]", calls, async () => {
    for (let i = 0; i < calls; i++) await run(answer);
  }],
  ["await fromOperation(op)", calls, async () => {
    for (let i = 0; i < calls; i++) await fromOperation(answer);
  }],
  ["yield* call(async fn) [effection alone]", calls, () => run(function* () {
    for (let i = 0; i < calls; i++) yield* call(quartetAnswer);
  })],
  ["yield* toOperation(fn), effection main", calls, () => run(function* () {
    for (let i = 0; i < calls; i++) yield* toOperation(quartetAnswer);
  })],
  ["yield* toOperation(fn), inside fromOperation", calls, () => fromOperation(function* () {
    for (let i = 0; i < calls; i++) yield* toOperation(quartetAnswer);
  })],
  ["each(stream) per value [effection alone]", values, () => run(function* () {
    for (const _ of yield* each(numbers(values))) yield* each.next();
  })],
  ["for await (fromStream(stream)) per value", values, async () => {
    await using stream = await fromStream(numbers(values));
    for await (const _ of stream);
  }],
  ["for await (channel) per value [Quartet alone]", values, () => channelRound(async (receive) => {
    for await (const _ of receive);
  })],
  ["each(toStream(channel)) per value", values, () => channelRound((receive) => fromOperation(function* () {
    for (const _ of yield* each(toStream(receive))) yield* each.next();
  }))],
];

/** A rendezvous channel with a Quartet sender of `values` numbers and `consume` as its receiver. */
function channelRound(consume: (receive: AsyncIterable<number> & Parameters<typeof toStream<number>>[0]) => Promise<unknown>): Promise<unknown> {
  const [send, receive] = openMemoryChannel<number>();
  return taskGroup(async (tg) => {
    tg.spawn(async () => {
      await using out = send;
      for (let i = 0; i < values; i++) await out.send(i);
    });
    await consume(receive);
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

console.log(`node ${process.version}; median of ${runs} runs; µs per call or per value`);
for (const [name, count, body] of rows) {
  await body(); // warm-up
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    await body();
    times.push(((performance.now() - start) * 1000) / count);
  }
  console.log(`${median(times).toFixed(2).padStart(8)}  ${name}`);
}
