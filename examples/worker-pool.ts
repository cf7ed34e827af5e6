// A worker pool over a channel, fed in batches, whose results are broadcast to
// two subscribers: a progress reporter that may drop updates, and a tally that
// must see every result. Run it with `npx --yes pnpm@12 tsx examples/worker-pool.ts [jobs]`.
// docs/everyday-patterns.md explains it.
import { createHash } from "node:crypto";
import {
  EndOfChannel,
  forEach,
  openBroadcastChannel,
  openMemoryChannel,
  sleep,
  taskGroup,
  type BroadcastSubscription,
  type SendChannel,
} from "@quartet/core";

const JOBS = Number(process.argv[2] ?? 1000);

interface Result {
  readonly job: number;
  readonly digest: string;
}

// #region batches
/** Feeds the jobs in batches of 100: one checkpoint per batch, with backpressure per job. */
async function feed(count: number, jobs: SendChannel<number>): Promise<void> {
  using out = jobs; // closing it ends the pool once the jobs are done
  for (let first = 0; first < count; first += 100) {
    const batch = Array.from({ length: Math.min(100, count - first) }, (_, i) => first + i);
    await out.sendMany(batch);
  }
}

/** Stands for a database write: one round trip per call, however many rows it carries. */
async function saveRows(rows: readonly Result[]): Promise<void> {
  await sleep(rows.length > 0 ? 1 : 0);
}

/** Saves the results a batch at a time: takes whatever has arrived, up to 64, and waits only when there is none. */
async function tally(results: BroadcastSubscription<Result>): Promise<{ count: number; batches: number }> {
  using rx = results;
  let count = 0;
  let batches = 0;
  for (;;) {
    let batch: Result[];
    try {
      batch = await rx.receiveMany(64);
    } catch (error) {
      if (error instanceof EndOfChannel) return { count, batches };
      throw error;
    }
    await saveRows(batch); // meanwhile, the next batch gathers in the buffer
    count += batch.length;
    batches++;
  }
}
// #endregion

// #region pool
/** Reports progress now and then; may miss updates (its subscription drops the oldest), never slows the pool. */
async function progress(results: BroadcastSubscription<Result>, total: number): Promise<void> {
  using rx = results;
  let last = 0;
  for await (const { job } of rx) {
    if (job >= last + total / 4) {
      last = job;
      console.log(`progress: job ${job} done`);
    }
    await sleep(1); // a slow terminal: this subscriber falls behind
  }
}

await taskGroup(async (tg) => {
  const [sendJobs, jobs] = openMemoryChannel<number>(32, { name: "jobs" });
  // Closed when this block ends (however it ends): the subscribers then drain their buffers and stop.
  using results = openBroadcastChannel<Result>(64, { whenFull: "wait", name: "results" });
  using reporter = openBroadcastChannel<Result>(4, { whenFull: "dropOldest", name: "progress" });
  // Subscribe before the first result is sent: a subscription sees only what is sent after it.
  const tallied = results.subscribe({ name: "tally" });
  tg.spawn(async () => {
    const { count, batches } = await tally(tallied);
    console.log(`tally: ${count} results saved in ${batches} batches`);
  }, { name: "tally" });
  const watched = reporter.subscribe({ name: "progress" });
  tg.spawn(() => progress(watched, JOBS), { name: "progress" });
  tg.spawn(() => feed(JOBS, sendJobs), { name: "feeder" });

  await forEach(
    jobs,
    async (job) => {
      const digest = createHash("sha256").update(`job ${job}`).digest("hex");
      await results.send({ job, digest }); // waits while the tally's buffer is full
      await reporter.send({ job, digest }); // never waits: the progress subscriber drops what it has not read
    },
    { concurrency: 4, name: "pool" },
  );
});
// #endregion
