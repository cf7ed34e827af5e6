// Shared fast-check settings: every property runs a bounded number of cases
// from a fixed seed, so CI is repeatable; FC_SEED=<n> explores other cases
// locally. On a failure fast-check prints the seed and the counterexample's
// path, which replay it: FC_SEED=<seed> and { path } in the options.
//
// A run that hangs (a task that never ends) fails after `timeout` ms with its
// seed printed, instead of the whole test timing out without one.
import { moveOnAfter } from "../src/index.js";

export function fcOptions(numRuns: number): { numRuns: number; seed: number; timeout: number } {
  const seed = process.env.FC_SEED === undefined ? 20_261_201 : Number(process.env.FC_SEED);
  if (!Number.isInteger(seed)) throw new Error(`FC_SEED must be an integer; got ${process.env.FC_SEED}`);
  return { numRuns, seed, timeout: 1000 };
}

/**
 * Runs `operation`, under a deadline `deadline` ms away if one is given (so
 * that a random schedule can cancel it); says whether it completed, and with what.
 */
export async function withDeadline<T>(deadline: number | null, operation: () => Promise<T>): Promise<{ done: true; value: T } | { done: false }> {
  if (deadline === null) return { done: true, value: await operation() };
  let result: { done: true; value: T } | { done: false } = { done: false };
  await moveOnAfter(deadline, async () => {
    result = { done: true, value: await operation() };
  });
  return result;
}
