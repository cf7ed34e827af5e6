// Foreign promises against cancellation, in every order (issue 11). fast-check's
// scheduler decides when each foreign promise settles (resolves or rejects) and
// when each task's cancel scope is cancelled, relative to one another. Tasks
// wait with abortable(promise), with a fake fetch that honours currentSignal()
// (rejecting with the signal's reason, or with an AbortError whose cause is the
// reason, or with an AbortError without cause, as real APIs do), or with both.
// Whatever the order: each task ends exactly once, with the foreign result if it
// settled first and with its scope's cancellation if the cancel came first —
// never both, never a Cancelled escaping its scope; no unhandled rejection; and
// the run ends with nothing left behind.
//
// Core has no stream adapter of its own (the Node/WHATWG stream adapters live in
// @quartet/node), so there is none to test here.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CancelScope, abortable, currentSignal, isCancelled, run, taskGroup } from "../../src/index.js";
import { currentStatistics } from "../../src/lowlevel.js";
import { MockClock } from "../virtual-time.js";
import { PROPERTY_TIMEOUT, assertProperty, withinRealTime } from "./harness.js";

type Wait = "abortable" | "signal: reason" | "signal: AbortError with cause" | "signal: AbortError without cause" | "abortable(signal)";

interface Plan {
  readonly wait: Wait;
  readonly settle: "resolve" | "reject";
  /** Never cancelled, cancelled before the task starts, or cancelled when the scheduler says. */
  readonly cancel: "never" | "before" | "scheduled";
}

const planArbitrary: fc.Arbitrary<Plan> = fc.record({
  wait: fc.constantFrom<Wait>("abortable", "signal: reason", "signal: AbortError with cause", "signal: AbortError without cause", "abortable(signal)"),
  settle: fc.constantFrom("resolve" as const, "reject" as const),
  cancel: fc.oneof(
    { weight: 1, arbitrary: fc.constant("never" as const) },
    { weight: 1, arbitrary: fc.constant("before" as const) },
    { weight: 4, arbitrary: fc.constant("scheduled" as const) },
  ),
});

class Failure extends Error {
  override name = "Failure";
}

/**
 * A fetch-like foreign call: settles when `gate` is released, or rejects at once
 * when `signal` aborts, the way `how` says; calls `settling` as it settles.
 */
function fakeFetch(signal: AbortSignal, gate: Promise<void>, result: () => number, how: Wait, settling: () => void): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const abortError = (): unknown => {
      if (how === "signal: AbortError without cause") return new DOMException("This operation was aborted", "AbortError");
      if (how === "signal: AbortError with cause") return Object.assign(new DOMException("This operation was aborted", "AbortError"), { cause: signal.reason });
      return signal.reason; // what fetch() does
    };
    const onAbort = (): void => {
      settling();
      reject(abortError());
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    gate.then(() => {
      signal.removeEventListener("abort", onAbort);
      settling();
      try {
        resolve(result());
      } catch (error) {
        reject(error);
      }
    });
  });
}

describe("foreign promises settling against cancellation, in every order", () => {
  it(
    "each task gets the result if it settled first, else its scope's cancellation; exactly once; no unhandled rejection; nothing left behind",
    async () => {
      await assertProperty(
        // startFirst: the scheduler begins only once every task waits (else it may settle and cancel before tasks start).
        fc.asyncProperty(fc.scheduler(), fc.array(planArbitrary, { minLength: 1, maxLength: 5 }), fc.boolean(), async (s, plans, startFirst) => {
          /** The order in which foreign results settled and scopes were cancelled. */
          const log: string[] = [];
          const outcomes: string[][] = plans.map(() => []);
          const escaped: unknown[] = [];
          const unhandled: unknown[] = [];
          const onUnhandled = (reason: unknown): void => {
            unhandled.push(reason);
          };
          process.on("unhandledRejection", onUnhandled);
          let leftover: unknown = null;
          try {
            await withinRealTime(
              run(
                async () => {
                  await taskGroup(async (tg) => {
                    let waiting = 0;
                    let allWaiting: () => void = () => {};
                    const everyTaskWaits = new Promise<void>((resolve) => (allWaiting = resolve));
                    plans.forEach((plan, i) => {
                      const gate = s.schedule(Promise.resolve(), `foreign ${i} settles`);
                      const result = (): number => {
                        if (plan.settle === "reject") throw new Failure(`foreign ${i} failed`);
                        return i;
                      };
                      const scope = new CancelScope();
                      const cancel = (): void => {
                        log.push(`cancel ${i}`);
                        scope.cancel();
                      };
                      if (plan.cancel === "before") cancel();
                      // (Not scheduleFunction: it calls the function at once and schedules only its result.)
                      if (plan.cancel === "scheduled") void s.schedule(Promise.resolve(), `cancel ${i}`).then(cancel);
                      tg.spawn(async () => {
                        try {
                          await scope.run(async () => {
                            const settled = (): void => void log.push(`settled ${i}`);
                            let waited: Promise<number>;
                            if (plan.wait === "abortable") {
                              // The settlement is logged from a twin of the promise handed to abortable(), so that
                              // nothing but abortable() observes that one (a late rejection must not go unhandled);
                              // the twin's reaction runs right before abortable()'s own.
                              gate.then(result).then(settled, settled);
                              waited = abortable(gate.then(result));
                            } else if (plan.wait === "abortable(signal)") {
                              waited = abortable(fakeFetch(currentSignal(), gate, result, "signal: reason", settled));
                            } else {
                              const foreign = fakeFetch(currentSignal(), gate, result, plan.wait, () => {});
                              foreign.then(settled, settled); // right before the task's own reaction
                              waited = foreign;
                            }
                            if (++waiting === plans.length) allWaiting();
                            try {
                              outcomes[i]!.push(`value ${await waited}`);
                            } catch (error) {
                              outcomes[i]!.push(isCancelled(error) ? "Cancelled" : error instanceof Failure ? "Failure" : `${(error as Error).name}`);
                              throw error;
                            }
                          });
                        } catch (error) {
                          if (!(error instanceof Failure)) escaped.push(error); // only the foreign failure may leave the scope
                        }
                        if (scope.cancelledCaught) outcomes[i]!.push("scope caught its cancellation");
                      });
                    });
                    if (startFirst) await everyTaskWaits;
                    await s.waitIdle();
                  });
                  const { tasksLiving, deadlines } = currentStatistics();
                  leftover = { tasksLiving, deadlines };
                },
                { clock: new MockClock() },
              ),
              () => new Error(`the run did not end; scheduler:\n${s.report().map((t) => `${t.label}: ${t.status}`).join("\n")}`),
            );
            await new Promise((resolve) => setImmediate(resolve)); // Node reports unhandled rejections by now
          } finally {
            process.off("unhandledRejection", onUnhandled);
          }
          expect(unhandled, "unhandled rejections").toEqual([]);
          expect(escaped, "errors that escaped a task's scope").toEqual([]);
          expect(leftover, "what the run left behind").toEqual({ tasksLiving: 1, deadlines: 0 });
          plans.forEach((plan, i) => {
            const cancelledAt = log.indexOf(`cancel ${i}`);
            const settledAt = log.indexOf(`settled ${i}`);
            const cancelledFirst = cancelledAt >= 0 && (settledAt < 0 || cancelledAt < settledAt);
            // A signal-honouring call rejects with an abort error, which isCancelled() and the scope take for its cancellation.
            const cancelled = ["Cancelled", "scope caught its cancellation"];
            const result = [plan.settle === "resolve" ? `value ${i}` : "Failure"];
            const what = `task ${i} (${JSON.stringify(plan)}); order: ${log.join(", ")}`;
            if (plan.wait === "abortable(signal)" && !cancelledFirst && cancelledAt >= 0) {
              // The fetch settled, then the scope was cancelled before abortable() saw the result: either
              // may win (the settling is logged inside the fake, some reactions before abortable() sees it).
              expect([cancelled, result], what).toContainEqual(outcomes[i]);
            } else {
              expect(outcomes[i], what).toEqual(cancelledFirst ? cancelled : result);
            }
          });
        }),
        { seed: 0x11_1007, numRuns: 300 },
      );
    },
    PROPERTY_TIMEOUT,
  );
});
