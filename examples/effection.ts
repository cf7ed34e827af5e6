// Moving an effection program to Quartet a piece at a time (docs/effection.md):
// every step runs, and each prints what it did.
//   pnpm tsx examples/effection.ts
import { CancelScope, failAfter, openMemoryChannel, sleep, taskGroup } from "@quartet/core";
import { each, resource, sleep as effectionSleep, type Operation, type Stream } from "effection";
import { fromOperation, fromStream, toOperation, toStream } from "@quartet/effection";

// #region before
// The effection program as it was: a source of jobs (a stream over a connection)
// and a worker that handles each job.
function jobs(count: number): Stream<number, void> {
  return resource(function* (provide) {
    console.log("jobs: connected");
    let next = 0;
    try {
      yield* provide({
        *next() {
          yield* effectionSleep(1); // waits for the next job
          next++;
          return next <= count ? { done: false, value: next } : { done: true, value: undefined };
        },
      });
    } finally {
      console.log("jobs: disconnected");
    }
  });
}

function* handle(job: number): Operation<string> {
  yield* effectionSleep(1); // does the work
  return `job ${job} done`;
}

function* worker(count: number, report = (line: string) => console.log(line)): Operation<void> {
  for (const job of yield* each(jobs(count))) {
    report(yield* handle(job));
    yield* each.next();
  }
}
// #endregion

// #region step1
// Step 1: the entry point is Quartet; the effection worker runs as it is.
await fromOperation(worker(2));
// Cancelling the Quartet scope halts the worker; its cleanup runs before stop.run() returns.
const stop = new CancelScope({ name: "stop after two jobs" });
await stop.run(() =>
  fromOperation(worker(Infinity, (line) => {
    console.log(line);
    if (line === "job 2 done") stop.cancel("enough");
  })),
);
console.log(`step 1: the worker was ${stop.cancelledCaught ? "cancelled" : "not cancelled"}`);
// #endregion

// #region step2
// Step 2: a leaf becomes a Quartet function, with a Quartet timeout; the effection
// worker calls it with toOperation().
async function handleJob(job: number): Promise<string> {
  return failAfter(1000, async () => {
    await sleep(1); // does the work
    return `job ${job} done in Quartet`;
  });
}

function* workerCallingQuartet(count: number): Operation<void> {
  for (const job of yield* each(jobs(count))) {
    console.log(yield* toOperation(handleJob, job));
    yield* each.next();
  }
}
await fromOperation(workerCallingQuartet(2));
// #endregion

// #region step3
// Step 3: the loop moves to Quartet; the source is still the effection stream,
// pulled one job at a time as the loop asks.
{
  await using source = await fromStream(jobs(2));
  for await (const job of source) console.log(await handleJob(job));
}
// #endregion

// #region step4
// Step 4: the source is a Quartet channel; code still written in effection reads it
// as a stream.
const [send, receive] = openMemoryChannel<number>();
await taskGroup(async (tg) => {
  tg.spawn(async () => {
    await using out = send;
    for (let job = 1; job <= 2; job++) await out.send(job);
  });
  await fromOperation(function* () {
    for (const job of yield* each(toStream(receive))) {
      console.log(`${yield* handle(job)}, read from a Quartet channel`);
      yield* each.next();
    }
  });
});
// #endregion
