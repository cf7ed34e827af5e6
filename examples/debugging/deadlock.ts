// A program that deadlocks: two transfers take the same two locks in opposite
// orders, and each ends up waiting for the lock the other holds. Nothing can
// wake them, so when Node is about to exit, run() cancels the run (the
// transfers' cleanup runs) and rejects with a DeadlockError whose message is
// the task tree: which task waits in what, and (with QUARTET_DEBUG=1) from
// which line.
// Run it with `QUARTET_DEBUG=1 npx --yes pnpm@12 tsx examples/debugging/deadlock.ts`;
// docs/debugging.md shows its output.
import { DeadlockError, Lock, run, sleep, taskGroup } from "@quartet/core";

// #region program
const accounts = { alice: new Lock({ name: "alice" }), bob: new Lock({ name: "bob" }) };

/** Moves money between two accounts, holding both of their locks. */
async function transfer(from: "alice" | "bob", to: "alice" | "bob"): Promise<void> {
  using _from = await accounts[from].acquire();
  try {
    await sleep(10); // read the balance: long enough for the other transfer to take its first lock
    using _to = await accounts[to].acquire();
    console.log(`${from} → ${to}: done`);
  } finally {
    console.log(`${from} → ${to}: cleanup ran, releasing ${from}`);
  }
}

try {
  await run(async () => {
    await taskGroup(
      async (tg) => {
        tg.spawn(() => transfer("alice", "bob"), { name: "alice → bob" });
        tg.spawn(() => transfer("bob", "alice"), { name: "bob → alice" });
      },
      { name: "transfers" },
    );
  });
} catch (error) {
  if (!(error instanceof DeadlockError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
// #endregion
