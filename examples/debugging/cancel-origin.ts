// Why a task was cancelled: every Cancelled carries an origin (what cancelled
// which scope) and says it in its message. Three cancellations: a task group
// cancelled because one of its tasks failed, a scope whose deadline passed,
// and an explicit cancel() (with debugging on, its origin holds the stack of
// the cancel() call).
// Run it with `npx --yes pnpm@12 tsx examples/debugging/cancel-origin.ts`;
// docs/debugging.md shows its output.
import { CancelScope, Cancelled, now, run, sleep, taskGroup } from "@quartet/core";

// #region explain
/** Prints why `error`, a Cancelled, happened: its message and the fields of its origin. */
function explain(who: string, error: unknown): void {
  if (!(error instanceof Cancelled)) return;
  const { kind, scope, task, error: failure, stack } = error.origin;
  console.log(`${who}: ${error.message}`);
  console.log(`  origin: kind ${JSON.stringify(kind)}, scope ${JSON.stringify(scope)}, task ${JSON.stringify(task)}, error ${String(failure)}`);
  // With debugging on, the stack of the cancel() call; empty when Quartet itself cancelled (a failure, a deadline).
  if (stack) console.log(`  cancel() was called ${stack.split("\n")[0]!.trim()}`);
}
// #endregion

await run(
  async () => {
    // #region failure
    try {
      await taskGroup(
        async (tg) => {
          tg.spawn(
            async () => {
              await sleep(10);
              throw new TypeError("boom");
            },
            { name: "fetch-user" },
          );
          tg.spawn(
            async () => {
              try {
                await sleep(1000);
              } catch (error) {
                explain("fetch-orders", error);
                throw error;
              }
            },
            { name: "fetch-orders" },
          );
        },
        { name: "load-profile" },
      );
    } catch (error) {
      console.log(`taskGroup threw ${String(error)}`);
    }
    // #endregion

    // #region deadline
    await new CancelScope({ deadline: now() + 20, name: "per-request deadline" }).run(async () => {
      try {
        await sleep(1000);
      } catch (error) {
        explain("slow request", error);
        throw error;
      }
    });
    // #endregion

    // #region cancel
    const job = new CancelScope({ name: "nightly job" });
    await job.run(async () => {
      setTimeout(() => job.cancel("the operator stopped it"), 10);
      try {
        await sleep(1000);
      } catch (error) {
        explain("nightly job", error);
        throw error;
      }
    });
    // #endregion
  },
  { debug: true },
);
